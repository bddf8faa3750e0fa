import type { Logger } from '../observability/logger.js'

/**
 * The port every broker adapter implements, and nothing more. Adapters move bytes, acknowledge,
 * delay and dead-letter; every decision (retry or not, how long, what to record, which event
 * matches which pattern, how an event is encoded) is taken once, in core.
 */
export interface Transport {
  /** Short broker name used in messages and logs: 'memory', 'amqp', 'redis-streams', ... */
  readonly name: string
  /**
   * Largest encoded event (bytes) the broker accepts; core rejects bigger ones before sending. A
   * getter: some brokers tell it only once connected (NATS' max_payload), so core reads it per publish.
   */
  readonly maxMessageBytes: number
  /**
   * What this broker can and cannot do. Core acts on it once (delays above `maxDelayMs`, history
   * fitted to `historyBytes`); the conformance suite reads it to know what to prove.
   */
  readonly capabilities: TransportCapabilities

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
   * Send one message to one existing group only (no other group sees it), as a fresh attempt chain:
   * attempt 1, empty history. Resolves once the broker holds it durably, like `publish`. Rejects
   * with `GroupNotFoundError` when the namespace has no such group. (The journal's "replay this
   * event to the group that failed", whatever became of it.)
   */
  sendToGroup(group: string, message: OutgoingMessage): Promise<void>

  /**
   * Every group of this transport's namespace, with the broker's own counters, sorted by name.
   * A counter the broker cannot tell is `undefined`, never a guess.
   */
  inspectGroups(): Promise<GroupStatus[]>

  /**
   * Disconnect. Deliveries still unsettled are NOT acknowledged: the broker gives them back to the
   * group (at once, or after ackTimeoutMs). Ephemeral (`durable: false`) groups are removed.
   */
  close(): Promise<void>
}

/**
 * Limits and abilities a transport declares. One source of truth: core enforces the limits, and
 * `describeTransportConformance` derives the tests it runs from the booleans.
 */
export interface TransportCapabilities {
  /** Longest retry delay the broker can schedule (ms); `Infinity` when unbounded. */
  readonly maxDelayMs: number
  /**
   * Bytes of delivery metadata (the JSON of the attempt history) one message may carry. Core drops
   * stacks, then the oldest records, to fit; `Infinity` when unbounded.
   */
  readonly historyBytes: number
  /**
   * A retry carries the new attempt number and history (a copy is written). False where a retry
   * redelivers the same message (NATS nak, SQS visibility): the attempt then comes from the broker's
   * delivery count and a dead letter records the final failure only.
   */
  readonly retryCarriesHistory: boolean
  /** 'exact': listing dead letters changes nothing stored; 'approximate': it may (SQS receive counts). */
  readonly deadLetterBrowsing: 'exact' | 'approximate'
  /** G14: events with the same key reach a concurrency-1 listener in publish order. */
  readonly orderingByKey: boolean
  /** G7: a delivery left unsettled by a dead or stalled process (no lease renewal) goes to another. */
  readonly crashRecovery: boolean
  /** G6: a group receives events published while all of its processes were stopped. */
  readonly durableGroups: boolean
  /** G6: `durable: false` groups exist only while their transport is open. */
  readonly ephemeralGroups: boolean
  /**
   * Which `inspectGroups()` counters the broker can tell exactly (`pending` and `deadLetters` always
   * must); the others are reported `undefined`.
   */
  readonly groupCounters: {
    readonly inFlight: boolean
    readonly waitingRetries: boolean
    readonly consumers: boolean
  }
  /**
   * How many deliveries beyond `concurrency` this transport may hand to core unsettled at once
   * (read-ahead, prefetch), for a subscription of the given concurrency. Core runs at most
   * `concurrency` handlers and holds the rest in order; the conformance suite fails a transport that
   * hands over more than `concurrency + readAhead(concurrency)`.
   */
  readAhead(concurrency: number): number
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
  readonly key?: string | undefined
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
  /**
   * The listener's retry policy's maxAttempts (Infinity when unbounded). Brokers with a delivery
   * limit (quorum `x-delivery-limit`, NATS `max_deliver`, SQS `maxReceiveCount`) set theirs from it,
   * above it, as the net for crash loops that core cannot see.
   */
  readonly maxAttempts: number
}

/**
 * Called once per delivery. The returned promise resolves when core has settled (or released) the
 * delivery; it never rejects: core logs its own failures. Pull-based adapters may use it for flow
 * control, push-based ones may ignore it.
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
  /**
   * Core will not handle it (the bus is closing and no handler started): give it back to the group
   * at once, unchanged and not counted as an attempt where the broker allows, instead of after
   * ackTimeoutMs. The delivery counts as settled afterwards.
   */
  release(): Promise<void>
  /**
   * Optional: the handler is still alive, postpone crash recovery (Redis XCLAIM refresh, NATS
   * `working()`, SQS ChangeMessageVisibility). Core calls it for every running handler about every
   * `ackTimeoutMs / 3`; a transport that has leases gives a delivery whose lease lapsed to another
   * process (G7), and ignores the late settlement of the stalled one.
   */
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

/** What the broker knows of one group right now (`tidings groups`). */
export interface GroupStatus {
  readonly group: string
  /** Events waiting for the group that no process holds yet (the backlog), due retries included. */
  readonly pending: number
  /** Handed to a process and not settled yet. */
  readonly inFlight: number | undefined
  /** Retries scheduled and not due yet. */
  readonly waitingRetries: number | undefined
  readonly deadLetters: number
  /** Processes subscribed to the group now. */
  readonly consumers: number | undefined
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
  readonly namespace?: string | undefined
  /** How long publish() waits through an outage before rejecting with PublishError (default 10 s). */
  readonly publishTimeoutMs?: number | undefined
}
