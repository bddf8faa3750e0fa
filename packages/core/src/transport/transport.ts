import type { Logger } from '../observability/logger.js'

/**
 * The port every broker adapter implements, and nothing more. Adapters move bytes, acknowledge,
 * delay and dead-letter; every decision (retry or not, how long, what to record, which event
 * matches which pattern, how an event is encoded) is taken once, in core.
 */
export interface Transport {
  /** Short broker name used in messages and logs: 'memory', 'amqp', 'redis-streams', ... */
  readonly name: string
  /** Largest encoded event (bytes) the broker accepts; core rejects bigger ones before sending. */
  readonly maxMessageBytes: number

  /** Connect and declare what publishing needs. Called once, before any other method. */
  connect(context: TransportContext): Promise<void>

  /**
   * Resolve only once the broker has accepted the message durably (confirm, XADD reply, PubAck);
   * reject otherwise. Waits up to the adapter's publishTimeoutMs through an outage, then rejects.
   */
  publish(message: OutgoingMessage): Promise<void>

  /**
   * Declare the group (idempotently) and start handing its messages to `onDelivery`. The group must
   * exist durably once this resolves (unless `durable: false`), so events published afterwards wait
   * for it while every process of the group is down. Never more than `concurrency` deliveries may be
   * unsettled at once (prefetch is bounded).
   */
  subscribe(options: SubscribeOptions, onDelivery: DeliveryHandler): Promise<Subscription>

  /** The dead-letter queue of one consumer group. */
  deadLetters(group: string): TransportDeadLetters

  /**
   * Disconnect. Deliveries still unsettled are NOT acknowledged: the broker gives them back to the
   * group (at once, or after ackTimeoutMs). Ephemeral (`durable: false`) groups are removed.
   */
  close(): Promise<void>
}

/** What core gives a transport when connecting. */
export interface TransportContext {
  /** Logger bound to the transport (never log credentials). */
  readonly logger: Logger
  /** Tell the bus about connection changes; the bus turns them into lifecycle events. */
  readonly notify: (notice: TransportNotice) => void
}

export type TransportNotice =
  | { readonly kind: 'disconnected'; readonly error?: Error }
  | { readonly kind: 'reconnected'; readonly attempt: number }
  | { readonly kind: 'error'; readonly error: Error }

export interface OutgoingMessage {
  /** CloudEvents id (UUIDv7); adapters may use it for broker-side deduplication. */
  readonly id: string
  /** The event name; routing key / subject / message attribute. */
  readonly type: string
  /** Partition/ordering key (SPEC G14), when the publisher gave one. */
  readonly key?: string
  /** The encoded CloudEvents envelope (structured JSON mode) as UTF-8 bytes, made on first access. */
  readonly body: Buffer
  /** The same envelope as text: clients that write strings (ioredis, in-process queues) use it and skip a copy. */
  readonly text: string
  /** Size of `body` in bytes, without making it. */
  readonly byteLength: number
}

export interface SubscribeOptions {
  /** Consumer group, `<service>-<listener>`. */
  readonly group: string
  /** Patterns (SPEC G3) the group listens to. Adapters may filter coarsely; core filters exactly. */
  readonly patterns: readonly string[]
  /** false: an ephemeral group, removed when the transport closes (tools such as `tail`). */
  readonly durable: boolean
  /** Upper bound of unsettled deliveries handed to this process at once. */
  readonly concurrency: number
  /** A delivery unsettled this long by a dead or stalled process goes to another process (G7). */
  readonly ackTimeoutMs: number
  /** Stable name of this process within the group (Redis consumer name, logs). */
  readonly consumerName: string
}

/**
 * Called once per delivery. The returned promise resolves when core has settled the delivery (it
 * never rejects: core logs its own failures); pull-based adapters may use it for flow control,
 * push-based ones may ignore it.
 */
export type DeliveryHandler = (delivery: Delivery) => Promise<void>

export interface Delivery {
  /** The message exactly as it was on the wire. */
  readonly body: Buffer
  /** Optional: the same message as text, when the transport holds it as a string already; core decodes it instead of `body`. */
  readonly text?: string
  /**
   * 1-based attempt number: the `attempt` core passed to `retry()` (1 for a fresh event), plus the
   * redeliveries after crashes the broker counted since, where it can count them.
   */
  readonly attempt: number
  /** Failures recorded by core on earlier attempts, oldest first, as passed to retry(). */
  readonly history: readonly AttemptFailure[]
  /** The broker delivered this message before without it being settled (crash, stall, close). */
  readonly redelivered: boolean

  /** Done: remove it from the group. */
  ack(): Promise<void>
  /**
   * Hand it back to the same group only, after `delayMs`, carrying `attempt` and `history`.
   * Must not delay any other message of the group (no head-of-line blocking, G4).
   */
  retry(instruction: RetryInstruction): Promise<void>
  /** Move it, unchanged, to the group's dead-letter queue with its history. */
  deadLetter(record: DeadLetterInstruction): Promise<void>
  /** Optional: the handler is still alive, postpone crash recovery (e.g. Redis XCLAIM refresh). */
  extendLease?(): Promise<void>
}

export interface RetryInstruction {
  readonly delayMs: number
  /** The attempt number the redelivery will carry. */
  readonly attempt: number
  readonly history: readonly AttemptFailure[]
}

export interface DeadLetterInstruction {
  /** Event id, or an id core assigned when the message did not decode. Used by list/replay. */
  readonly id: string
  /** The event name when known (for adapters that index or route dead letters by type). */
  readonly type?: string
  readonly history: readonly AttemptFailure[]
  /** One line: why it was dead-lettered (exhausted, non-retryable, decode error, crash loop). */
  readonly reason: string
}

/** One failed attempt, as recorded in the dead letter (SPEC G5). */
export interface AttemptFailure {
  readonly attempt: number
  /** RFC 3339 time the attempt failed. */
  readonly at: string
  readonly error: {
    readonly name: string
    readonly message: string
    /** Trimmed stack trace (first frames only). */
    readonly stack?: string
  }
  /** Delay chosen before the next attempt, when one was scheduled. */
  readonly retryDelayMs?: number
}

export interface Subscription {
  /** Stop fetching new deliveries. Unsettled ones can still be settled afterwards. */
  stop(): Promise<void>
}

/** A dead letter as stored by the transport: the untouched body plus its record. */
export interface StoredDeadLetter {
  readonly id: string
  readonly group: string
  readonly body: Buffer
  readonly history: readonly AttemptFailure[]
  readonly reason: string
  /** RFC 3339 */
  readonly deadLetteredAt: string
}

export interface TransportDeadLetters {
  /** Oldest first, at most `limit`. Must not change what is stored. */
  list(options: { readonly limit: number }): Promise<StoredDeadLetter[]>
  count(): Promise<number>
  /**
   * Send the chosen dead letters back to their group only, as attempt 1 with an empty history
   * (a new attempt chain, same body so the event id is kept), and remove them from the queue.
   * Returns how many were replayed.
   */
  replay(ids: readonly string[] | 'all'): Promise<number>
  /** Remove everything; returns how many were removed. */
  purge(): Promise<number>
}

/** Common options every adapter accepts. */
export interface CommonTransportOptions {
  /** Prefix of every broker resource (default 'tidings'): lets environments and test runs share a broker. */
  readonly namespace?: string
  /** How long publish() waits through an outage before rejecting with PublishError (default 10 s). */
  readonly publishTimeoutMs?: number
}
