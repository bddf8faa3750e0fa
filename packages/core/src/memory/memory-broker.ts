import type { Logger } from '../observability/logger.js'
import { compilePatterns, type PatternMatcher } from '../patterns/patterns.js'
import { type Clock, systemClock } from '../time/clock.js'
import { type Leased, LeaseTracker } from '../transport/kit/lease-tracker.js'
import { SettleOnce } from '../transport/kit/settle-once.js'
import type {
  AttemptFailure,
  DeadLetterInstruction,
  Delivery,
  DeliveryHandler,
  GroupStatus,
  RetryInstruction,
  StoredDeadLetter,
} from '../transport/transport.js'
import { Queue } from '../util/queue.js'
import { TimerHeap } from './timer-heap.js'

/** Messages are kept as the encoded text: an in-process queue needs no bytes. */
interface StoredMessage {
  readonly text: string
  readonly attempt: number
  readonly history: readonly AttemptFailure[]
  readonly redelivered: boolean
}

/** What a subscription tells the broker when it attaches. */
export interface AttachOptions {
  readonly group: string
  readonly patterns: readonly string[]
  readonly durable: boolean
  readonly concurrency: number
  /** A delivery whose lease is not renewed this long goes back to the group (G7). */
  readonly ackTimeoutMs: number
}

/** One process attached to a group (one subscription of one transport). */
export class MemoryConsumer {
  inFlight = 0
  active = true
  readonly unsettled = new Set<MemoryDelivery>()
  readonly leases: LeaseTracker<MemoryDelivery>

  constructor(
    readonly group: MemoryGroup,
    readonly concurrency: number,
    readonly onDelivery: DeliveryHandler,
    ackTimeoutMs: number,
    broker: MemoryBroker,
    readonly logger: Logger,
  ) {
    this.leases = new LeaseTracker(ackTimeoutMs, (delivery) => broker.lapse(delivery), broker.clock)
  }
}

export class MemoryGroup {
  readonly queue = new Queue<StoredMessage>()
  readonly consumers: MemoryConsumer[] = []
  readonly deadLetters: StoredDeadLetter[] = []
  /** Retries scheduled on the broker's timer heap and not due yet. */
  waitingRetries = 0
  matches: PatternMatcher
  private nextConsumer = 0

  constructor(
    readonly name: string,
    patterns: readonly string[],
    public durable: boolean,
  ) {
    this.matches = compilePatterns(patterns)
  }

  /** Round-robin over consumers with a free slot, so competing processes share the load. */
  pickConsumer(): MemoryConsumer | undefined {
    const count = this.consumers.length
    for (let i = 0; i < count; i += 1) {
      const consumer = this.consumers[(this.nextConsumer + i) % count]!
      if (consumer.active && consumer.inFlight < consumer.concurrency) {
        this.nextConsumer = (this.nextConsumer + i + 1) % count
        return consumer
      }
    }
    return undefined
  }
}

class MemoryDelivery implements Delivery, Leased {
  private readonly settlement = new SettleOnce()
  leaseUntil = 0
  /** Its lease lapsed: the message went back to the group, but the stalled handler still holds a slot. */
  lapsed = false

  constructor(
    private readonly broker: MemoryBroker,
    readonly consumer: MemoryConsumer,
    private readonly message: StoredMessage,
  ) {}

  get body(): Buffer {
    return Buffer.from(this.message.text)
  }
  get text(): string {
    return this.message.text
  }
  get attempt(): number {
    return this.message.attempt
  }
  get history(): readonly AttemptFailure[] {
    return this.message.history
  }
  get redelivered(): boolean {
    return this.message.redelivered
  }

  get leaseEnded(): boolean {
    return this.settlement.settled || this.lapsed
  }

  ack(): Promise<void> {
    this.settle('ack')
    return RESOLVED
  }

  release(): Promise<void> {
    if (this.settle('release')) this.broker.putBack(this.consumer.group, this.message)
    return RESOLVED
  }

  extendLease(): Promise<void> {
    if (!this.settlement.settled && this.consumer.unsettled.has(this)) this.consumer.leases.hold(this)
    return RESOLVED
  }

  retry(instruction: RetryInstruction): Promise<void> {
    if (this.settle('retry')) {
      const group = this.consumer.group
      const message: StoredMessage = {
        text: this.message.text,
        attempt: instruction.attempt,
        history: instruction.history,
        redelivered: false,
      }
      group.waitingRetries += 1
      this.broker.delay(instruction.delayMs, () => {
        group.waitingRetries -= 1
        this.broker.enqueue(group, message)
      })
    }
    return RESOLVED
  }

  deadLetter(record: DeadLetterInstruction): Promise<void> {
    if (this.settle('deadLetter')) {
      this.consumer.group.deadLetters.push({
        id: record.id,
        group: this.consumer.group.name,
        body: Buffer.from(this.message.text),
        history: record.history,
        reason: record.reason,
        deadLetteredAt: new Date(this.broker.clock.now()).toISOString(),
      })
    }
    return RESOLVED
  }

  /**
   * False when already settled (one warning, the kit's rule), or when the broker took it back
   * (consumer closed, lease lapsed): a late settlement of a stalled handler changes nothing.
   */
  private settle(operation: string): boolean {
    if (this.lapsed) {
      // The late outcome of a stalled handler: its slot is free again, the message is elsewhere.
      if (this.consumer.unsettled.delete(this)) this.freeSlot()
      return false
    }
    if (!this.settlement.claim(operation, this.consumer.logger, this.consumer.group.name)) return false
    if (!this.consumer.unsettled.delete(this)) return false
    this.freeSlot()
    return true
  }

  private freeSlot(): void {
    this.consumer.inFlight -= 1
    this.broker.scheduleDispatch(this.consumer.group)
  }

  /** The consumer died (or stalled) holding it: back to the group, counted as a crash redelivery. */
  abandon(): StoredMessage {
    this.settlement.claim('abandon', this.consumer.logger, this.consumer.group.name)
    return { ...this.message, attempt: this.message.attempt + 1, redelivered: true }
  }
}

const RESOLVED = Promise.resolve()
/** Deliveries dispatched in microtasks before yielding to the event loop, so timers and I/O are not starved. */
const DISPATCH_BURST = 2048

/**
 * An in-process broker with the semantics the conformance suite demands of real ones: durable
 * groups, competing consumers, delayed retries on one timer heap, per-group dead letters.
 * Brokers are shared per name within the process, so two buses with `memory://` see each other.
 */
export class MemoryBroker {
  readonly clock: Clock
  private readonly groups = new Map<string, MemoryGroup>()
  private routes = new Map<string, MemoryGroup[]>()
  private readonly timers: TimerHeap
  private readonly pendingDispatch = new Set<MemoryGroup>()
  private dispatchScheduled = false
  private burst = 0

  constructor(options: { clock?: Clock } = {}) {
    this.clock = options.clock ?? systemClock
    this.timers = new TimerHeap(this.clock)
  }

  private static readonly shared = new Map<string, MemoryBroker>()

  /**
   * The process-wide broker of a name (`memory://<name>`; default "default"): buses of one process
   * that name it see each other, and its durable groups outlive every bus, as on a real broker.
   */
  static named(name = 'default'): MemoryBroker {
    let broker = MemoryBroker.shared.get(name)
    if (!broker) {
      broker = new MemoryBroker()
      MemoryBroker.shared.set(name, broker)
    }
    return broker
  }

  /**
   * Forget the process-wide broker of a name (or all of them) with everything it holds: a later
   * `memory://<name>` starts empty. For test suites and long-running processes that create many names.
   */
  static evict(name?: string): void {
    if (name === undefined) MemoryBroker.shared.clear()
    else MemoryBroker.shared.delete(name)
  }

  /** Delayed retries waiting right now (all groups). */
  get pendingDelays(): number {
    return this.timers.size
  }

  /** Route an encoded event to every matching group (also how tests inject raw messages). */
  publish(type: string, body: string | Buffer): void {
    const text = typeof body === 'string' ? body : body.toString('utf8')
    let targets = this.routes.get(type)
    if (targets === undefined) {
      targets = [...this.groups.values()].filter((group) => group.matches(type))
      this.routes.set(type, targets)
    }
    for (const group of targets) this.enqueue(group, { text, attempt: 1, history: [], redelivered: false })
  }

  group(name: string): MemoryGroup | undefined {
    return this.groups.get(name)
  }

  attach(options: AttachOptions, onDelivery: DeliveryHandler, logger: Logger): MemoryConsumer {
    let group = this.groups.get(options.group)
    if (!group) {
      group = new MemoryGroup(options.group, options.patterns, options.durable)
      this.groups.set(options.group, group)
    } else {
      group.matches = compilePatterns(options.patterns)
      group.durable = options.durable
    }
    this.routes = new Map()
    const consumer = new MemoryConsumer(
      group,
      options.concurrency,
      onDelivery,
      options.ackTimeoutMs,
      this,
      logger,
    )
    group.consumers.push(consumer)
    this.scheduleDispatch(group)
    return consumer
  }

  /** Stop handing out new deliveries; unsettled ones can still be settled. */
  pause(consumer: MemoryConsumer): void {
    consumer.active = false
  }

  /**
   * A lease lapsed (the handler's process stalled): the message goes back to the group, while the
   * stalled handler keeps its slot until it ends, so the message goes to another process.
   */
  lapse(delivery: MemoryDelivery): void {
    if (delivery.lapsed || !delivery.consumer.unsettled.has(delivery)) return
    delivery.lapsed = true
    this.putBack(delivery.consumer.group, delivery.abandon())
  }

  /** Back at the head of its group's queue (released or lapsed), so it is the next delivery. */
  putBack(group: MemoryGroup, message: StoredMessage): void {
    if (this.groups.get(group.name) !== group) return
    group.queue.unshift(message)
    this.scheduleDispatch(group)
  }

  /** The consumer is gone: what it held returns to the group at once, as from a closed channel. */
  detach(consumer: MemoryConsumer): void {
    consumer.active = false
    consumer.leases.stop()
    const group = consumer.group
    const index = group.consumers.indexOf(consumer)
    if (index >= 0) group.consumers.splice(index, 1)
    const returned = [...consumer.unsettled]
      .filter((delivery) => !delivery.lapsed) // already back in the group
      .map((delivery) => delivery.abandon())
      .reverse()
    consumer.unsettled.clear()
    consumer.inFlight = 0
    for (const message of returned) group.queue.unshift(message)
    if (!group.durable && group.consumers.length === 0) {
      this.groups.delete(group.name)
      this.routes = new Map()
      return
    }
    this.scheduleDispatch(group)
  }

  enqueue(group: MemoryGroup, message: StoredMessage): void {
    if (this.groups.get(group.name) !== group) return // ephemeral group removed meanwhile
    group.queue.push(message)
    this.scheduleDispatch(group)
  }

  delay(delayMs: number, fire: () => void): void {
    this.timers.schedule(delayMs, fire)
  }

  /** Every group, by name, with what it holds now. */
  inspect(): GroupStatus[] {
    return [...this.groups.values()]
      .map((group) => {
        let inFlight = 0
        for (const consumer of group.consumers) {
          for (const delivery of consumer.unsettled) if (!delivery.lapsed) inFlight += 1
        }
        return {
          group: group.name,
          pending: group.queue.length,
          inFlight,
          waitingRetries: group.waitingRetries,
          deadLetters: group.deadLetters.length,
          consumers: group.consumers.filter((consumer) => consumer.active).length,
        }
      })
      .sort((a, b) => (a.group < b.group ? -1 : a.group > b.group ? 1 : 0))
  }

  /** A new attempt chain for one group only. */
  sendToGroup(group: MemoryGroup, text: string): void {
    this.enqueue(group, { text, attempt: 1, history: [], redelivered: false })
  }

  replay(group: MemoryGroup, ids: readonly string[] | 'all'): number {
    const wanted = ids === 'all' ? undefined : new Set(ids)
    const keep: StoredDeadLetter[] = []
    let replayed = 0
    for (const letter of group.deadLetters) {
      if (wanted && !wanted.has(letter.id)) {
        keep.push(letter)
        continue
      }
      replayed += 1
      this.sendToGroup(group, letter.body.toString('utf8'))
    }
    group.deadLetters.splice(0, group.deadLetters.length, ...keep)
    return replayed
  }

  scheduleDispatch(group: MemoryGroup): void {
    this.pendingDispatch.add(group)
    if (this.dispatchScheduled) return
    this.dispatchScheduled = true
    if (this.burst < DISPATCH_BURST) queueMicrotask(this.dispatchAll)
    else setImmediate(this.dispatchAll)
  }

  private readonly dispatchAll = (): void => {
    this.dispatchScheduled = false
    if (this.burst >= DISPATCH_BURST) this.burst = 0
    for (const group of this.pendingDispatch) {
      this.pendingDispatch.delete(group)
      this.dispatch(group)
    }
  }

  private dispatch(group: MemoryGroup): void {
    while (group.queue.length > 0) {
      const consumer = group.pickConsumer()
      if (!consumer) return
      const message = group.queue.shift()!
      const delivery = new MemoryDelivery(this, consumer, message)
      consumer.inFlight += 1
      consumer.unsettled.add(delivery)
      consumer.leases.hold(delivery)
      this.burst += 1
      // Core's delivery handler never rejects: it settles every delivery and logs its own errors.
      void consumer.onDelivery(delivery)
    }
  }

  /** Forget all groups, delays and dead letters (tests). */
  reset(): void {
    for (const group of this.groups.values()) group.waitingRetries = 0
    this.groups.clear()
    this.routes = new Map()
    this.timers.clear()
  }
}
