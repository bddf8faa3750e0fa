import type { AttemptFailure, DeadLetterInstruction, Delivery, RetryInstruction } from '@tidings/core'
import { decodeRetryMeta, fieldBodyText, fieldText, type RetryMeta, type StreamEntry } from './entries.js'

/** What a delivery needs from the subscription that read it. */
export interface DeliveryOwner {
  ackEntry(delivery: StreamDelivery): Promise<void>
  retryEntry(delivery: StreamDelivery, instruction: RetryInstruction): Promise<void>
  deadLetterEntry(delivery: StreamDelivery, record: DeadLetterInstruction): Promise<void>
  extendEntry(delivery: StreamDelivery): Promise<void>
  releaseEntry(delivery: StreamDelivery): Promise<void>
}

const NO_HISTORY: readonly AttemptFailure[] = Object.freeze([])

/**
 * One entry this process owns, from the moment it is read or claimed until it is settled: queued
 * (read ahead), then handed to core as its Delivery. One object per entry, methods on the prototype:
 * the hot path allocates as little as possible.
 */
export class StreamDelivery implements Delivery {
  /** The body as read (core decodes this; the Buffer is made only if someone asks for `body`). */
  readonly text: string
  readonly attempt: number
  readonly history: readonly AttemptFailure[]
  readonly redelivered: boolean
  /** ack/retry/deadLetter was called: never settle twice. */
  settled = false
  /** No longer held: settled, handler done, or taken over by another process. */
  released = false
  /** Where HeldDeliveries keeps it (-1 when not held). */
  slot = -1
  private readonly meta: RetryMeta | undefined
  private bytes: Buffer | undefined

  constructor(
    private readonly owner: DeliveryOwner,
    /** The stream the entry lives in: the events stream, or the group's retry stream. */
    readonly stream: string,
    readonly entry: StreamEntry<string>,
    readonly deliveryCount: number,
    fromRetryStream: boolean,
  ) {
    this.meta = fromRetryStream ? decodeRetryMeta(fieldText(entry, 'meta')) : undefined
    this.text = fieldBodyText(entry)
    this.attempt = (this.meta?.attempt ?? 1) + Math.max(0, deliveryCount - 1)
    this.history = this.meta?.history ?? NO_HISTORY
    this.redelivered = deliveryCount > 1
  }

  /**
   * The body as bytes, made from the text on first use. Retries and dead letters do not rely on it:
   * their Lua scripts copy the stored body on the server, so bytes that are not UTF-8 (a foreign
   * publisher's) stay exact.
   */
  get body(): Buffer {
    this.bytes ??= Buffer.from(this.text)
    return this.bytes
  }

  get entryId(): string {
    return this.entry.id
  }

  /** The event name: from the retry meta, or the events stream's `type` field. */
  get type(): string | undefined {
    return this.meta ? this.meta.type : fieldText(this.entry, 'type')
  }

  get eventId(): string | undefined {
    return this.meta ? this.meta.id : fieldText(this.entry, 'id')
  }

  ack(): Promise<void> {
    return this.owner.ackEntry(this)
  }

  retry(instruction: RetryInstruction): Promise<void> {
    return this.owner.retryEntry(this, instruction)
  }

  deadLetter(record: DeadLetterInstruction): Promise<void> {
    return this.owner.deadLetterEntry(this, record)
  }

  release(): Promise<void> {
    return this.owner.releaseEntry(this)
  }

  extendLease(): Promise<void> {
    return this.owner.extendEntry(this)
  }
}
