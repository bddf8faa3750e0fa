import type { AnyEvents, EventCatalogue } from '../bus/bus-options.js'
import type { Event } from '../envelope/envelope.js'
import { ConfigError } from '../errors/errors.js'
import type { IdempotencyOptions } from '../idempotency/idempotency-store.js'
import type { Logger } from '../observability/logger.js'
import { assertListenerName } from '../patterns/names.js'
import type { ErrorVerdict } from '../retry/decision.js'
import { type RetryOptions, type RetryPolicy, resolveRetryPolicy } from '../retry/retry-policy.js'
import { describeValue } from '../util/describe-value.js'

/** What a handler gets beside its event; `publish` is typed by the bus's catalogue. */
export interface HandlerContext<Events extends EventCatalogue = AnyEvents> {
  /** 1-based attempt number of this delivery. */
  readonly attempt: number
  /** Consumer group, `<service>-<listener>`. */
  readonly group: string
  /** The broker delivered this event before without it being settled (a crash or a lost connection). */
  readonly redelivered: boolean
  /** Aborted when the handler passes `timeoutMs` or the bus stops waiting for it on close. */
  readonly signal: AbortSignal
  readonly headers: Readonly<Record<string, string>>
  readonly receivedAt: Date
  /** Logger bound to the event id, type, group and attempt. */
  readonly logger: Logger
  /** Publish a follow-up event, with causationId = this event's id and its correlation id carried over. */
  publish<Name extends keyof Events & string>(
    type: Name,
    data: Events[Name],
    options?: PublishOptions,
  ): Promise<Event<Events[Name]>>
}

export interface PublishOptions {
  /** Ordering/partition key (SPEC G14); also CloudEvents `partitionkey`. */
  readonly key?: string | undefined
  /** User headers: CloudEvents extension attributes (names: 1–20 lowercase letters or digits). */
  readonly headers?: Readonly<Record<string, string>> | undefined
  /** Event id; default a new UUIDv7. Give one to make a re-publication deduplicable. */
  readonly id?: string | undefined
  readonly correlationId?: string | undefined
  readonly causationId?: string | undefined
  readonly traceparent?: string | undefined
}

export type Handler<T = unknown, Events extends EventCatalogue = AnyEvents> = (
  event: Event<T>,
  context: HandlerContext<Events>,
) => unknown | Promise<unknown>

export interface ListenOptions<T = unknown> {
  /** Listener name, unique within the service: the consumer group is `<service>-<name>`. */
  readonly name: string
  readonly retry?: RetryOptions | undefined
  /** Exhausted and non-retryable events go to the group's dead-letter queue (default true); false drops them with an error log. */
  readonly deadLetter?: boolean | undefined
  /** Handlers in flight per process for this listener (default 8). */
  readonly concurrency?: number | undefined
  /** Handler deadline; ctx.signal aborts at it and the attempt fails (default 30 000; Infinity disables). */
  readonly timeoutMs?: number | undefined
  /** A delivery held this long by a dead or stalled process goes to another (default 60 000). */
  readonly ackTimeoutMs?: number | undefined
  /** false: an ephemeral group, removed when the bus closes (tools such as tail). Default true. */
  readonly durable?: boolean | undefined
  /** Runs before the retry decision and may override it: 'retry' | 'dead-letter' | 'ack' | { retryAfterMs }. */
  readonly onError?: (
    error: unknown,
    event: Event<T>,
    context: HandlerContext,
  ) => ErrorVerdict | Promise<ErrorVerdict>
  /** Skip event ids this group already handled within a window (SPEC G15). */
  readonly idempotency?: IdempotencyOptions | undefined
}

export interface ListenerDefaults {
  readonly retry?: RetryOptions | undefined
  readonly concurrency?: number | undefined
  readonly timeoutMs?: number | undefined
  readonly ackTimeoutMs?: number | undefined
}

export interface ResolvedListenOptions {
  readonly name: string
  readonly retry: RetryPolicy
  readonly deadLetter: boolean
  readonly concurrency: number
  readonly timeoutMs: number
  readonly ackTimeoutMs: number
  readonly durable: boolean
  readonly onError?: ListenOptions['onError'] | undefined
  readonly idempotency?:
    | { readonly store: IdempotencyOptions['store']; readonly windowMs: number }
    | undefined
}

const KNOWN_OPTIONS = new Set([
  'name',
  'retry',
  'deadLetter',
  'concurrency',
  'timeoutMs',
  'ackTimeoutMs',
  'durable',
  'onError',
  'idempotency',
])

export function resolveListenOptions(
  options: unknown,
  defaults: ListenerDefaults = {},
): ResolvedListenOptions {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new ConfigError(
      `listen(pattern, handler, options) needs an options object with at least a name, such as { name: "create-shipment" }; got ${describeValue(options)}.`,
    )
  }
  const given = options as ListenOptions
  for (const key of Object.keys(given)) {
    if (!KNOWN_OPTIONS.has(key)) {
      throw new ConfigError(
        `listen() has no option "${key}": the options are ${[...KNOWN_OPTIONS].join(', ')}.`,
      )
    }
  }
  assertListenerName(given.name)
  const base = resolveRetryPolicy(defaults.retry)
  const resolved: ResolvedListenOptions = {
    name: given.name,
    retry: resolveRetryPolicy(given.retry, base),
    deadLetter: booleanOption(given.deadLetter, true, 'deadLetter'),
    concurrency: wholeNumber(given.concurrency ?? defaults.concurrency ?? 8, 'concurrency', 1, 10_000),
    timeoutMs: milliseconds(given.timeoutMs ?? defaults.timeoutMs ?? 30_000, 'timeoutMs', true),
    ackTimeoutMs: milliseconds(given.ackTimeoutMs ?? defaults.ackTimeoutMs ?? 60_000, 'ackTimeoutMs', false),
    durable: booleanOption(given.durable, true, 'durable'),
    onError: given.onError,
  }
  if (given.onError !== undefined && typeof given.onError !== 'function') {
    throw new ConfigError('listen() option onError must be a function (error, event, ctx) => verdict.')
  }
  if (given.idempotency !== undefined) {
    const store = given.idempotency?.store
    if (
      !store ||
      typeof store.claim !== 'function' ||
      typeof store.confirm !== 'function' ||
      typeof store.release !== 'function'
    ) {
      throw new ConfigError(
        "listen() option idempotency needs { store } with claim(group, id, leaseMs), confirm(group, id, windowMs) and release(group, id), such as memoryIdempotencyStore() or the Redis transport's redisIdempotencyStore().",
      )
    }
    return {
      ...resolved,
      idempotency: {
        store,
        windowMs: milliseconds(given.idempotency.windowMs ?? 86_400_000, 'idempotency.windowMs', false),
      },
    }
  }
  return resolved
}

const DEFAULT_OPTIONS = new Set(['retry', 'concurrency', 'timeoutMs', 'ackTimeoutMs'])

/** Checks `createBus({ defaults })` once, so a bad default fails at createBus, not at the first listen(). */
export function assertListenerDefaults(defaults: unknown): void {
  if (defaults === undefined) return
  if (defaults === null || typeof defaults !== 'object' || Array.isArray(defaults)) {
    throw new ConfigError(
      `createBus({ defaults }) must be an object such as { concurrency: 4, retry: { maxAttempts: 3 } }; got ${describeValue(defaults)}.`,
    )
  }
  const given = defaults as ListenerDefaults
  for (const key of Object.keys(given)) {
    if (!DEFAULT_OPTIONS.has(key)) {
      throw new ConfigError(
        `createBus({ defaults }) has no option "${key}": the defaults are ${[...DEFAULT_OPTIONS].join(', ')}.`,
      )
    }
  }
  resolveRetryPolicy(given.retry)
  if (given.concurrency !== undefined) wholeNumber(given.concurrency, 'concurrency', 1, 10_000)
  if (given.timeoutMs !== undefined) milliseconds(given.timeoutMs, 'timeoutMs', true)
  if (given.ackTimeoutMs !== undefined) milliseconds(given.ackTimeoutMs, 'ackTimeoutMs', false)
}

function booleanOption(value: unknown, fallback: boolean, name: string): boolean {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean')
    throw new ConfigError(`listen() option ${name} must be true or false, got ${describeValue(value)}.`)
  return value
}

function wholeNumber(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(
      `listen() option ${name} must be a whole number from ${min} to ${max}, got ${describeValue(value)}.`,
    )
  }
  return value
}

function milliseconds(value: unknown, name: string, allowInfinity: boolean): number {
  if (
    typeof value !== 'number' ||
    Number.isNaN(value) ||
    value <= 0 ||
    (!allowInfinity && !Number.isFinite(value))
  ) {
    throw new ConfigError(
      `listen() option ${name} must be a number of milliseconds > 0${allowInfinity ? ' (or Infinity)' : ''}, got ${describeValue(value)}.`,
    )
  }
  return value
}
