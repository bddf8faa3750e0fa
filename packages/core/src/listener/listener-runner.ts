import { recordFailure } from '../dead-letter/attempt-history.js'
import { fitHistory } from '../dead-letter/history-budget.js'
import { decodeEnvelope, type Event } from '../envelope/envelope.js'
import { uuidv7 } from '../envelope/uuidv7.js'
import { ConfigError, CrashLoopError, HandlerTimeoutError } from '../errors/errors.js'
import type { ChainRun } from '../interceptors/chain.js'
import type { HandleInterception, HandleOutcome } from '../interceptors/interceptor.js'
import type { Lifecycle } from '../observability/lifecycle.js'
import type { Logger } from '../observability/logger.js'
import type { PatternMatcher } from '../patterns/patterns.js'
import { decide } from '../retry/decision.js'
import { type StandardSchemaV1, validateWithSchema } from '../schema/standard-schema.js'
import type { Clock } from '../time/clock.js'
import type {
  AttemptFailure,
  Delivery,
  Subscription,
  Transport,
  TransportCapabilities,
} from '../transport/transport.js'
import { Queue } from '../util/queue.js'
import { DeadlineTracker } from './deadline-tracker.js'
import { DeliveryContext } from './handler-context.js'
import type { Handler, PublishOptions, ResolvedListenOptions } from './listen-options.js'

export interface ListenerRunnerDeps {
  readonly group: string
  readonly patterns: readonly string[]
  readonly matches: PatternMatcher
  readonly handler: Handler
  readonly options: ResolvedListenOptions
  readonly consumerName: string
  readonly lifecycle: Lifecycle
  readonly logger: Logger
  readonly schemaFor: (type: string) => StandardSchemaV1 | undefined
  readonly publish: (type: string, data: unknown, options?: PublishOptions) => Promise<Event>
  /** Time for deadlines, lease renewal and failure records; the testkit's manual clock replaces it. */
  readonly clock: Clock
  /** The bus's handle interceptors composed, or undefined when there are none (no cost then). */
  readonly intercept:
    | ((attempt: HandleInterception, innermost: () => Promise<HandleOutcome>) => ChainRun<HandleOutcome>)
    | undefined
}

/** A success when nobody asked for its duration: no object per event. */
const HANDLED_UNTIMED: HandleOutcome = Object.freeze({ kind: 'handled', durationMs: 0 })
const DUPLICATE_SKIPPED: HandleOutcome = Object.freeze({ kind: 'duplicate-skipped' })
const ABANDONED: HandleOutcome = Object.freeze({ kind: 'abandoned' })

/**
 * Runs one listener in this process: takes deliveries from the transport, is the one concurrency gate
 * (at most `concurrency` handlers; what the transport hands over beyond that waits here, in order),
 * enforces deadlines, renews the lease of every delivery it holds, and turns every outcome into
 * exactly one ack, retry, dead letter or (on close) release.
 */
export class ListenerRunner {
  private subscription: Subscription | undefined
  private readonly deadlines: DeadlineTracker | undefined
  private readonly waiting = new Queue<{ readonly delivery: Delivery; readonly settled: () => void }>()
  /** Handlers whose promise is still pending, with their delivery (for lease renewal and abort). */
  private readonly running = new Map<DeliveryContext, Delivery>()
  private capabilities: TransportCapabilities | undefined
  private leaseTimer: unknown
  private subscribing: Promise<void> | undefined
  private transportName = 'pending'
  /** Clock time of the last successful handling (health). */
  lastHandledAt: number | undefined
  private inFlight = 0
  private idleWaiters: (() => void)[] = []
  /** Set when close gave up waiting: late outcomes must not settle deliveries the broker took back. */
  private abandoned = false

  constructor(private readonly deps: ListenerRunnerDeps) {
    const timeoutMs = deps.options.timeoutMs
    this.deadlines = Number.isFinite(timeoutMs) ? new DeadlineTracker(timeoutMs, deps.clock) : undefined
  }

  get group(): string {
    return this.deps.group
  }

  /** Handlers running now in this process. */
  get handlersRunning(): number {
    return this.inFlight
  }

  get subscribed(): boolean {
    return this.subscription !== undefined
  }

  /** Declare the group and start consuming; a failed attempt may be repeated. */
  subscribe(transport: Transport): Promise<void> {
    if (this.subscription) return Promise.resolve()
    this.subscribing ??= this.open(transport).finally(() => {
      this.subscribing = undefined
    })
    return this.subscribing
  }

  private async open(transport: Transport): Promise<void> {
    const { group, patterns, options, consumerName } = this.deps
    const capabilities = transport.capabilities
    this.transportName = transport.name
    assertDelaysFit(group, options.retry.backoff, capabilities.maxDelayMs, transport.name)
    this.capabilities = capabilities
    this.subscription = await transport.subscribe(
      {
        group,
        patterns,
        durable: options.durable,
        concurrency: options.concurrency,
        ackTimeoutMs: options.ackTimeoutMs,
        consumerName,
        maxAttempts: options.retry.maxAttempts,
      },
      this.onDelivery,
    )
    this.renewLeasesEvery(Math.max(10, Math.floor(options.ackTimeoutMs / 3)))
  }

  /**
   * Core owns leases: every delivery this process holds (handler running, or waiting for a slot) has
   * its lease renewed well within ackTimeoutMs, so only a dead or stalled process loses its events.
   */
  private renewLeasesEvery(intervalMs: number): void {
    const { clock } = this.deps
    const renew = (): void => {
      this.leaseTimer = clock.setTimeout(renew, intervalMs)
      for (const delivery of this.running.values()) this.extendLease(delivery)
      this.waiting.forEach(({ delivery }) => {
        this.extendLease(delivery)
      })
    }
    this.leaseTimer = clock.setTimeout(renew, intervalMs)
  }

  private extendLease(delivery: Delivery): void {
    delivery
      .extendLease?.()
      .catch((error: unknown) => this.deps.logger.debug({ err: error }, 'renewing a lease failed'))
  }

  private stopLeaseRenewal(): void {
    if (this.leaseTimer !== undefined) this.deps.clock.clearTimeout(this.leaseTimer)
    this.leaseTimer = undefined
  }

  /** Stop fetching, then wait for in-flight handlers up to `drainTimeoutMs`; true when all settled. */
  async drain(drainTimeoutMs: number): Promise<boolean> {
    await this.subscribing?.catch(() => {})
    await this.subscription?.stop()
    // Deliveries the transport handed over but no handler started: back to the group at once.
    await Promise.all(
      this.waiting.drain().map(({ delivery, settled }) =>
        delivery
          .release()
          .catch((error: unknown) =>
            this.deps.logger.debug(
              { err: error },
              'releasing an unstarted delivery failed; the broker redelivers it after ackTimeoutMs',
            ),
          )
          .finally(settled),
      ),
    )
    if (this.inFlight > 0) {
      let timer: NodeJS.Timeout | undefined
      const idle = new Promise<boolean>((resolve) => this.idleWaiters.push(() => resolve(true)))
      const timeout = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), drainTimeoutMs)
      })
      const drained = await Promise.race([idle, timeout])
      clearTimeout(timer)
      if (!drained) {
        this.abandoned = true
        for (const context of this.running.keys())
          context.abort(new Error('The bus closed before this handler finished.'))
      }
    }
    // Abandoned deliveries get no more renewals: the broker gives them to another process.
    this.stopLeaseRenewal()
    this.deadlines?.stop()
    return !this.abandoned
  }

  private readonly onDelivery = (delivery: Delivery): Promise<void> => {
    if (this.inFlight >= this.deps.options.concurrency) {
      // The one concurrency gate: what the transport handed over beyond `concurrency` (its declared
      // read-ahead) waits here in order. Its promise resolves once it is settled, as the port promises.
      return new Promise((settled) => this.waiting.push({ delivery, settled }))
    }
    return this.run(delivery)
  }

  private async run(delivery: Delivery): Promise<void> {
    this.inFlight += 1
    try {
      await this.process(delivery)
    } catch (error) {
      this.deps.logger.error({ err: error }, 'settling a delivery failed; the broker will redeliver it')
    } finally {
      this.inFlight -= 1
      const next = this.waiting.shift()
      if (next) void this.run(next.delivery).then(next.settled)
      else if (this.inFlight === 0 && this.idleWaiters.length > 0) {
        for (const wake of this.idleWaiters) wake()
        this.idleWaiters = []
      }
    }
  }

  /** Not async: the common path hands back attempt()'s promise without another turn of the queue. */
  private process(delivery: Delivery): Promise<unknown> {
    const { options } = this.deps
    let event: Event
    try {
      event = decodeEnvelope(delivery.text ?? delivery.body)
    } catch (error) {
      return this.deadLetter(
        delivery,
        undefined,
        uuidv7(),
        [recordFailure(error, delivery.attempt, undefined, this.deps.clock.now())],
        'decode error',
        error,
      )
    }
    if (!this.deps.matches(event.type)) return delivery.ack() // coarser broker-side filter let it through
    if (delivery.attempt > options.retry.maxAttempts) {
      const failure = recordFailure(
        new CrashLoopError(delivery.attempt, options.retry.maxAttempts),
        delivery.attempt,
        undefined,
        this.deps.clock.now(),
      )
      return this.deadLetter(delivery, event, event.id, [...delivery.history, failure], 'crash loop', failure)
    }
    const intercept = this.deps.intercept
    if (intercept === undefined) return this.attempt(delivery, event)
    return this.interceptAttempt(intercept, delivery, event)
  }

  /**
   * Runs the attempt inside the handle interceptors, keeping exactly one settlement whatever they do:
   * one that fails before the handler ran fails the attempt; one that fails after is only logged.
   */
  private async interceptAttempt(
    intercept: NonNullable<ListenerRunnerDeps['intercept']>,
    delivery: Delivery,
    event: Event,
  ): Promise<void> {
    const run = intercept(
      {
        event,
        group: this.deps.group,
        attempt: delivery.attempt,
        redelivered: delivery.redelivered,
        transport: this.transportName,
        bodyBytes: delivery.text === undefined ? delivery.body.length : Buffer.byteLength(delivery.text),
      },
      () => this.attempt(delivery, event),
    )
    let failure: unknown
    try {
      await run.result
    } catch (error) {
      failure = error ?? new Error('An interceptor threw a nullish value.')
    }
    if (run.inner !== undefined) {
      await run.inner.catch(() => {}) // settled (or logged) by attempt() itself
      if (failure !== undefined) {
        this.deps.logger.error(
          { err: failure, eventId: event.id },
          'a handle interceptor threw after the attempt was settled; the outcome stands',
        )
      }
      return
    }
    await this.fail(
      delivery,
      event,
      this.contextFor(delivery, event),
      failure ?? new Error('A handle interceptor returned without calling next(): the handler never ran.'),
    )
  }

  private contextFor(delivery: Delivery, event: Event): DeliveryContext {
    return new DeliveryContext(
      event,
      delivery.attempt,
      this.deps.group,
      delivery.redelivered,
      this.deps.clock.now(),
      this.deps.logger,
      this.deps.publish,
    )
  }

  /** Idempotency, schema, the handler with its deadline, then exactly one settlement. */
  private async attempt(delivery: Delivery, input: Event): Promise<HandleOutcome> {
    const { group, options, lifecycle } = this.deps
    let event = input
    const idempotency = options.idempotency
    // Claim before handling: a copy delivered while another runs must not run too (G15).
    if (idempotency && (await idempotency.store.claim(group, event.id, this.claimLeaseMs)) !== 'claimed') {
      await this.settle(() => delivery.ack())
      lifecycle.emit('duplicate-skipped', { event, group })
      return DUPLICATE_SKIPPED
    }
    if (lifecycle.has('received')) lifecycle.emit('received', { event, group, attempt: delivery.attempt })

    const context = this.contextFor(delivery, event)
    const timed = lifecycle.has('handled') || lifecycle.has('failed') || this.deps.intercept !== undefined
    const started = timed ? performance.now() : 0
    let failure: unknown
    try {
      const schema = this.deps.schemaFor(event.type)
      if (schema) {
        const data = await validateWithSchema(schema, event.type, event.data)
        event = { ...event, data }
      }
      const pending = this.invoke(event, context, delivery)
      if (pending) await pending // a synchronous handler costs no extra turn of the microtask queue
    } catch (error) {
      failure = error ?? new Error('The handler threw a nullish value.')
    }
    if (this.abandoned) return ABANDONED
    if (failure === undefined) {
      if (idempotency) await idempotency.store.confirm(group, event.id, idempotency.windowMs)
      if (this.abandoned) return ABANDONED
      await delivery.ack() // no closure on the hot path
      this.lastHandledAt = this.deps.clock.now()
      if (!timed) return HANDLED_UNTIMED
      const durationMs = performance.now() - started
      if (lifecycle.has('handled'))
        lifecycle.emit('handled', { event, group, attempt: delivery.attempt, durationMs })
      return { kind: 'handled', durationMs }
    }
    const durationMs = timed ? performance.now() - started : undefined
    if (idempotency) await this.releaseClaim(event.id)
    return this.fail(delivery, event, context, failure, durationMs)
  }

  /** As long as a handler may run: its deadline, or the lease when it has none. */
  private get claimLeaseMs(): number {
    const { timeoutMs, ackTimeoutMs } = this.deps.options
    return Math.ceil(Number.isFinite(timeoutMs) ? timeoutMs : ackTimeoutMs)
  }

  /** The attempt failed: free the claim so its retry (or a redelivery) can run. */
  private async releaseClaim(eventId: string): Promise<void> {
    try {
      await this.deps.options.idempotency?.store.release(this.deps.group, eventId)
    } catch (error) {
      // The claim lapses after its lease anyway; the retry then runs.
      this.deps.logger.warn({ err: error, eventId }, 'releasing an idempotency claim failed')
    }
  }

  private invoke(event: Event, context: DeliveryContext, delivery: Delivery): Promise<void> | undefined {
    // A synchronous handler is over before close() could abort it: only running promises are tracked
    // (a Set that churns per event costs a busy listener measurable GC work).
    const result: unknown = this.deps.handler(event, context)
    if (!isThenable(result)) return undefined
    this.running.set(context, delivery)
    const deadlines = this.deadlines
    if (!deadlines)
      return Promise.resolve(result).then(
        () => {
          this.running.delete(context)
        },
        (error) => {
          this.running.delete(context)
          throw error
        },
      )
    return new Promise<void>((resolve, reject) => {
      const deadline = deadlines.start(() => {
        const timeout = new HandlerTimeoutError(this.deps.options.timeoutMs)
        context.abort(timeout)
        this.running.delete(context)
        reject(timeout)
      })
      result.then(
        () => {
          deadlines.finish(deadline)
          this.running.delete(context)
          resolve()
        },
        (error: unknown) => {
          deadlines.finish(deadline)
          this.running.delete(context)
          reject(error)
        },
      )
    })
  }

  private async fail(
    delivery: Delivery,
    event: Event,
    context: DeliveryContext,
    error: unknown,
    durationMs?: number,
  ): Promise<HandleOutcome> {
    const { group, options, lifecycle, logger } = this.deps
    const attempt = delivery.attempt
    lifecycle.emit('failed', { event, group, attempt, error, durationMs })
    let verdict: Awaited<ReturnType<NonNullable<ResolvedListenOptions['onError']>>>
    if (options.onError) {
      try {
        verdict = await options.onError(error, event, context)
      } catch (hookError) {
        logger.error(
          { err: hookError, eventId: event.id },
          'the onError hook threw; applying the retry policy',
        )
      }
    }
    let decision = decide(error, attempt, options.retry, verdict)
    const maxDelayMs = this.capabilities?.maxDelayMs ?? Number.POSITIVE_INFINITY
    if (decision.action === 'retry' && decision.delayMs > maxDelayMs) {
      decision = {
        action: 'dead-letter',
        reason: `retry delay of ${decision.delayMs} ms is over the ${maxDelayMs} ms this transport can schedule`,
      }
    }
    if (decision.action === 'ack') {
      await this.settle(() => delivery.ack())
      return { kind: 'dropped', error, reason: 'acknowledged by the onError hook' }
    }
    if (decision.action === 'retry') {
      logger.debug(
        { err: error, eventId: event.id, eventType: event.type, attempt, delayMs: decision.delayMs },
        'handler failed; retrying after the delay',
      )
      const history = this.fit([
        ...delivery.history,
        recordFailure(error, attempt, decision.delayMs, this.deps.clock.now()),
      ])
      await this.settle(() => delivery.retry({ delayMs: decision.delayMs, attempt: attempt + 1, history }))
      lifecycle.emit('retry-scheduled', {
        event,
        group,
        attempt,
        nextAttempt: attempt + 1,
        delayMs: decision.delayMs,
      })
      return { kind: 'retry-scheduled', error, delayMs: decision.delayMs, nextAttempt: attempt + 1 }
    }
    // Loud by default: the last failure of an event is an error in any log, even with no listener.
    logger.error(
      { err: error, eventId: event.id, eventType: event.type, attempt, reason: decision.reason },
      'handler failed its last attempt',
    )
    return this.deadLetter(
      delivery,
      event,
      event.id,
      [...delivery.history, recordFailure(error, attempt, undefined, this.deps.clock.now())],
      decision.reason,
      error,
    )
  }

  private async deadLetter(
    delivery: Delivery,
    event: Event | undefined,
    id: string,
    history: readonly AttemptFailure[],
    reason: string,
    error: unknown,
  ): Promise<HandleOutcome> {
    const { group, options, lifecycle, logger } = this.deps
    if (!options.deadLetter) {
      logger.error(
        { eventId: id, eventType: event?.type, reason, history },
        'event dropped: dead-lettering is off for this listener',
      )
      await this.settle(() => delivery.ack())
      return { kind: 'dropped', error, reason }
    }
    const fitted = this.fit(history)
    await this.settle(() => delivery.deadLetter({ id, type: event?.type, history: fitted, reason }))
    logger.warn({ eventId: id, eventType: event?.type, reason }, 'event dead-lettered')
    lifecycle.emit('dead-lettered', { event, id, group, reason, history: fitted })
    return { kind: 'dead-lettered', error, reason }
  }

  /** The history within the transport's metadata budget (the newest record always kept). */
  private fit(history: readonly AttemptFailure[]): readonly AttemptFailure[] {
    return fitHistory(history, this.capabilities?.historyBytes ?? Number.POSITIVE_INFINITY)
  }

  /** Settles unless close() gave up on this listener: the broker already took the delivery back. */
  private settle(action: () => Promise<void>): Promise<void> | undefined {
    return this.abandoned ? undefined : action()
  }
}

/** A policy whose longest delay is known (fixed, exponential) is checked against the broker at start. */
function assertDelaysFit(
  group: string,
  backoff: { readonly maxDelayMs?: number },
  maxDelayMs: number,
  transportName: string,
): void {
  const longest = backoff.maxDelayMs
  if (longest !== undefined && longest > maxDelayMs) {
    throw new ConfigError(
      `The retry back-off of group "${group}" waits up to ${longest} ms, but the ${transportName} transport can delay a retry by at most ${maxDelayMs} ms: lower the back-off's maxMs (or fixed delay) to ${maxDelayMs} or less.`,
    )
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function'
}
