import type { Event } from '../envelope/envelope.js'

/**
 * What an interceptor sees of a publish before it happens. It may add CloudEvents extension
 * attributes (`headers`, e.g. `tracestate`) and set `traceparent`; core encodes the event after the
 * whole chain ran, so what the interceptors set travels in the envelope.
 */
export interface PublishInterception {
  readonly type: string
  readonly data: unknown
  readonly key: string | undefined
  /** The publishing service (`source` is `/<service>`). */
  readonly service: string
  /** The transport's name (`memory`, `amqp`, `redis-streams`, …), once connected; else 'pending'. */
  readonly transport: string
  /** Extension attributes of the event; interceptors may add or change entries before `next()`. */
  readonly headers: Record<string, string>
  /** W3C trace context of the event (CloudEvents distributed-tracing extension). */
  traceparent: string | undefined
}

/** What an interceptor sees of one handling attempt. */
export interface HandleInterception {
  readonly event: Event
  /** Consumer group, `<service>-<listener>`. */
  readonly group: string
  /** 1-based. */
  readonly attempt: number
  readonly redelivered: boolean
  readonly transport: string
  /** Size of the message on the wire, in bytes. */
  readonly bodyBytes: number
}

/** How one handling attempt ended, once core has settled the delivery. */
export type HandleOutcome =
  | { readonly kind: 'handled'; readonly durationMs: number }
  | {
      readonly kind: 'retry-scheduled'
      readonly error: unknown
      readonly delayMs: number
      readonly nextAttempt: number
    }
  | { readonly kind: 'dead-lettered'; readonly error: unknown; readonly reason: string }
  /** Failed, and acknowledged anyway: the onError hook said 'ack', or dead-lettering is off. */
  | { readonly kind: 'dropped'; readonly error: unknown; readonly reason: string }
  /** The idempotency store knew the event id: acknowledged without running the handler. */
  | { readonly kind: 'duplicate-skipped' }
  /** The bus closed before the handler finished: left unsettled, the broker redelivers it. */
  | { readonly kind: 'abandoned' }

/**
 * Code that wraps every publish and every handling attempt of a bus: tracing, metrics, journals,
 * tenancy, your own cross-cutting code. `createBus({ interceptors: [a, b] })`: `a` is the outermost
 * (it runs first and sees the final result last).
 *
 * Rules (the bus keeps its guarantees whatever an interceptor does):
 * - `next()` runs the rest of the chain once; calling it again returns the same promise.
 * - publish: an interceptor that throws before `next()` fails the publish with its error and nothing
 *   is sent; one that throws after `next()` resolved is logged and the publish still resolves (the
 *   event was sent: rejecting would invite a duplicate).
 * - handle: an interceptor that throws before `next()`, or returns without calling it, fails that
 *   attempt with its error (the retry policy applies); one that throws after `next()` is logged: the
 *   delivery is already settled, exactly once.
 * - The handler runs inside the interceptor's call to `next()`, so an async context the interceptor
 *   enters around `next()` (AsyncLocalStorage, an OpenTelemetry span) is the handler's.
 */
export interface Interceptor {
  /** Shown in logs when it throws. */
  readonly name?: string
  publish?(publish: PublishInterception, next: () => Promise<Event>): Promise<Event>
  handle?(attempt: HandleInterception, next: () => Promise<HandleOutcome>): Promise<HandleOutcome>
}
