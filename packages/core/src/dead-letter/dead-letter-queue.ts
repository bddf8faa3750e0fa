import { decodeEnvelope, type Event } from '../envelope/envelope.js'
import { ConfigError } from '../errors/errors.js'
import type { AttemptFailure, Transport } from '../transport/transport.js'
import { describeValue } from '../util/describe-value.js'

/** A dead letter as users see it: the event (when it decodes), why it died, and every failed attempt. */
export interface DeadLetter {
  /** The event id (or, for a message that did not decode, an id assigned when it was dead-lettered). */
  readonly id: string
  readonly group: string
  /** The decoded event; undefined when the message on the wire was not a valid envelope. */
  readonly event: Event | undefined
  /** The message exactly as it was on the wire. */
  readonly body: Buffer
  readonly reason: string
  readonly history: readonly AttemptFailure[]
  readonly deadLetteredAt: string
}

/** `bus.deadLetters(group)`: inspect, replay and purge one consumer group's dead letters. */
export class DeadLetterQueue {
  constructor(
    readonly group: string,
    private readonly transport: () => Promise<Transport>,
  ) {}

  /** Oldest first; does not remove anything. */
  async list(options: { limit?: number } = {}): Promise<DeadLetter[]> {
    const limit = options.limit ?? 100
    if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) {
      throw new ConfigError(
        `deadLetters(group).list({ limit }) must be a whole number from 1 to 10000, got ${describeValue(limit)}.`,
      )
    }
    const stored = await (await this.transport()).deadLetters(this.group).list({ limit })
    return stored.map((letter) => ({ ...letter, event: tryDecode(letter.body) }))
  }

  async count(): Promise<number> {
    return (await this.transport()).deadLetters(this.group).count()
  }

  /** Send dead letters back to this group as a new attempt chain (same event id). Returns how many. */
  async replay(ids: readonly string[] | 'all'): Promise<number> {
    if (
      ids !== 'all' &&
      (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string' || id.length === 0))
    ) {
      throw new ConfigError(
        `replay(ids) takes an array of dead-letter ids (from list()) or 'all'; got ${describeValue(ids)}.`,
      )
    }
    return (await this.transport()).deadLetters(this.group).replay(ids)
  }

  /** Delete every dead letter of this group. Returns how many. */
  async purge(): Promise<number> {
    return (await this.transport()).deadLetters(this.group).purge()
  }
}

function tryDecode(body: Buffer): Event | undefined {
  try {
    return decodeEnvelope(body)
  } catch {
    return undefined
  }
}
