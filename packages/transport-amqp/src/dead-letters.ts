import { createHash } from 'node:crypto'
import {
  ConfigError,
  decodeEnvelope,
  type Logger,
  PublishError,
  type StoredDeadLetter,
  type TransportDeadLetters,
} from '@tidings/core'
import type { Channel, GetMessage, MessagePropertyHeaders, XDeath } from 'amqplib'
import type { ConnectionManager } from './connection-manager.js'
import { errorMessage } from './errors.js'
import { carriedHeaders, copyProperties, HEADER, headerString, readHistory } from './headers.js'
import type { QueueType } from './options.js'
import type { Publisher } from './publisher.js'
import type { Names } from './topology.js'

export interface DeadLetterDependencies {
  readonly connection: ConnectionManager
  readonly publisher: Publisher
  readonly names: Names
  readonly publishTimeoutMs: number
  readonly queueType: QueueType
  readonly logger: () => Logger
}

const REPLAY_BATCH = 100
/** Quorum queues put returned messages at the back; past this depth list() may reorder them. */
const QUORUM_FULL_CYCLE_LIMIT = 50_000

/**
 * `<ns>.<group>.dlq`. AMQP 0-9-1 has no "peek": list() takes messages with basic.get on a channel
 * of its own WITHOUT acknowledging them, then closes that channel, which gives every one back to
 * the queue in its place. replay() acks only the messages it has republished (after their confirm).
 * Classic queues put returned messages back in their place; quorum queues append them, so on a
 * quorum DLQ every operation takes the whole queue (up to 50,000 messages) to keep its order.
 */
export class AmqpDeadLetters implements TransportDeadLetters {
  private readonly queue: string

  constructor(
    private readonly deps: DeadLetterDependencies,
    private readonly group: string,
  ) {
    this.queue = deps.names.deadLetterQueue(group)
  }

  async list(options: { readonly limit: number }): Promise<StoredDeadLetter[]> {
    const limit = options?.limit
    if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1) {
      throw new ConfigError(
        `deadLetters("${this.group}").list({ limit }) needs a positive whole number, got ${String(limit)}.`,
      )
    }
    const depth = await this.depth()
    if (depth === 0) return []
    const take = this.fullCycle
      ? Math.min(depth, Math.max(limit, QUORUM_FULL_CYCLE_LIMIT))
      : Math.min(limit, depth)
    const letters = await this.withChannel('list dead letters', async (channel) => {
      const letters: StoredDeadLetter[] = []
      for (let taken = 0; taken < take; taken += 1) {
        const message = await channel.get(this.queue, { noAck: false })
        if (message === false) break
        if (letters.length < limit) letters.push(this.toStored(message))
      }
      return letters // closing the channel returns them all, unchanged and in order
    })
    await this.returned(depth)
    return letters
  }

  async count(): Promise<number> {
    return this.depth()
  }

  async replay(ids: readonly string[] | 'all'): Promise<number> {
    if (ids !== 'all' && !Array.isArray(ids)) {
      throw new ConfigError(`deadLetters("${this.group}").replay() takes an array of event ids or 'all'.`)
    }
    const wanted = ids === 'all' ? undefined : new Set(ids)
    if (wanted?.size === 0) return 0
    const depth = await this.depth()
    if (depth === 0) return 0
    const replayedCount = await this.withChannel('replay dead letters', async (channel) => {
      let replayed = 0
      let batch: { message: GetMessage; confirmed: Promise<boolean> }[] = []
      const settleBatch = async (): Promise<void> => {
        const outcomes = await Promise.all(batch.map((entry) => entry.confirmed))
        batch.forEach((entry, index) => {
          if (outcomes[index]) {
            channel.ack(entry.message)
            replayed += 1
          }
        })
        const unrouted = outcomes.includes(false)
        batch = []
        if (unrouted) {
          throw new PublishError(
            `Cannot replay dead letters of group "${this.group}": its queue "${this.deps.names.groupQueue(this.group)}" does not exist. Start a listener of that group once, then replay.`,
          )
        }
      }
      let seen = 0
      while (seen < depth && (wanted === undefined || wanted.size > 0 || this.fullCycle)) {
        const message = await channel.get(this.queue, { noAck: false })
        if (message === false) break
        seen += 1
        const stored = this.toStored(message)
        if (wanted && !wanted.delete(stored.id)) continue // not chosen: stays, returned on channel close
        // A new attempt chain: no attempt/history headers, same body (so the event id is kept).
        const options = copyProperties(message, carriedHeaders(message.properties.headers))
        const confirmed = this.deps.publisher.publish({
          exchange: this.deps.names.retry,
          routingKey: this.group,
          body: message.content,
          options,
          mandatory: true,
        })
        confirmed.catch(() => {})
        batch.push({ message, confirmed })
        if (batch.length >= REPLAY_BATCH) await settleBatch()
      }
      await settleBatch()
      return replayed
    })
    await this.returned(depth - replayedCount)
    return replayedCount
  }

  /**
   * Waits (up to 2 s) until the messages given back by closing a channel are counted again: a quorum
   * queue applies the return through its log after the channel is gone, and a count() or list()
   * right after must not miss them.
   */
  private async returned(expected: number): Promise<void> {
    const until = Date.now() + 2_000
    while (expected > 0 && Date.now() < until && (await this.depth()) < expected) {
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
  }

  private get fullCycle(): boolean {
    return this.deps.queueType === 'quorum'
  }

  async purge(): Promise<number> {
    if ((await this.depth()) === 0) return 0
    return this.withChannel(
      'purge dead letters',
      async (channel) => (await channel.purgeQueue(this.queue)).messageCount,
    )
  }

  /** Messages in the DLQ; 0 when it does not exist (yet). */
  private async depth(): Promise<number> {
    try {
      return await this.withChannel(
        'count dead letters',
        async (channel) => (await channel.checkQueue(this.queue)).messageCount,
      )
    } catch (error) {
      if (/NOT_FOUND|404/.test(errorMessage(error))) return 0
      throw error
    }
  }

  private withChannel<T>(operation: string, work: (channel: Channel) => Promise<T>): Promise<T> {
    return this.deps.connection.withChannel(Date.now() + this.deps.publishTimeoutMs, operation, work)
  }

  private toStored(message: GetMessage): StoredDeadLetter {
    const headers = message.properties.headers
    const death = firstDeath(headers)
    return {
      id:
        headerString(headers, HEADER.id) ??
        stringOrUndefined(message.properties.messageId) ??
        idOf(message.content),
      group: this.group,
      body: message.content,
      history: readHistory(headers),
      reason:
        headerString(headers, HEADER.reason) ??
        (death ? `RabbitMQ dead-lettered it from "${death.queue}" (${death.reason})` : 'unknown'),
      deadLetteredAt:
        headerString(headers, HEADER.deadLetteredAt) ??
        (death?.time?.value ? new Date(death.time.value * 1000).toISOString() : new Date(0).toISOString()),
    }
  }
}

function firstDeath(headers: MessagePropertyHeaders | undefined): XDeath | undefined {
  const deaths = headers?.['x-death']
  return Array.isArray(deaths) ? deaths[deaths.length - 1] : undefined
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined
}

/** The event id from the body, or a stable digest of an undecodable body (same id on every list). */
function idOf(body: Buffer): string {
  try {
    return decodeEnvelope(body).id
  } catch {
    return `sha256-${createHash('sha256').update(body).digest('hex').slice(0, 32)}`
  }
}
