import { type CommonTransportOptions, ConfigError } from '@tidings/core'

export type QueueType = 'classic' | 'quorum'

/** Back-off between reconnection attempts: initialDelayMs × factor^n, capped, with ± jitter. */
export interface ReconnectOptions {
  /** First delay after a lost connection (default 100 ms). */
  readonly initialDelayMs?: number | undefined
  /** Longest delay between attempts (default 5,000 ms). */
  readonly maxDelayMs?: number | undefined
  /** Growth per failed attempt (default 2). */
  readonly factor?: number | undefined
  /** Random spread, 0..1, so many processes do not reconnect in lockstep (default 0.2). */
  readonly jitter?: number | undefined
}

export interface AmqpTransportOptions extends CommonTransportOptions {
  /** `amqp://user:password@host:5672/vhost` or `amqps://…`. amqplib query parameters (heartbeat, frameMax, channelMax) pass through. */
  readonly url: string
  /** Upper bound of unacknowledged deliveries per listener; the listener's `concurrency` when lower. Default: concurrency. */
  readonly prefetch?: number | undefined
  /** Queue type of group and dead-letter queues (default 'classic'). Quorum queues replicate and count crash redeliveries. */
  readonly queueType?: QueueType | undefined
  /**
   * Quorum queues only: `x-delivery-limit`, the broker's crash-loop safety net. Default: from each
   * listener's maxAttempts, twice it and at least 20.
   */
  readonly deliveryLimit?: number | undefined
  /** Largest encoded event in bytes (default 16 MiB; RabbitMQ's own default limit is 128 MiB). */
  readonly maxMessageBytes?: number | undefined
  /** How long connect() keeps trying before it rejects (default 10,000 ms). */
  readonly connectTimeoutMs?: number | undefined
  /** AMQP heartbeat in seconds, so half-open connections are noticed (default 10; 0 disables). */
  readonly heartbeatSeconds?: number | undefined
  readonly reconnect?: ReconnectOptions | undefined
}

export interface ResolvedOptions {
  readonly url: string
  readonly namespace: string
  readonly publishTimeoutMs: number
  readonly prefetch: number | undefined
  readonly queueType: QueueType
  /** Undefined: derived from each listener's maxAttempts (see deliveryLimitFor). */
  readonly deliveryLimit: number | undefined
  readonly maxMessageBytes: number
  readonly connectTimeoutMs: number
  readonly heartbeatSeconds: number
  readonly reconnect: Required<ReconnectOptions>
}

export const DEFAULTS = {
  namespace: 'tidings',
  publishTimeoutMs: 10_000,
  queueType: 'classic' as QueueType,
  maxMessageBytes: 16 * 1024 * 1024,
  connectTimeoutMs: 10_000,
  heartbeatSeconds: 10,
  reconnect: { initialDelayMs: 100, maxDelayMs: 5_000, factor: 2, jitter: 0.2 },
} as const

/** Lowercase words joined by "-" or "_": safe inside every RabbitMQ resource name, no dots (they separate parts). */
const NAMESPACE = /^[a-z0-9]+([_-][a-z0-9]+)*$/
const RABBITMQ_MAX_MESSAGE_BYTES = 512 * 1024 * 1024

export function resolveOptions(options: AmqpTransportOptions): ResolvedOptions {
  if (options === null || typeof options !== 'object') {
    throw new ConfigError('amqpTransport() needs an options object such as { url: "amqp://localhost:5672" }.')
  }
  const { url } = options
  if (typeof url !== 'string' || !/^amqps?:\/\//i.test(url)) {
    throw new ConfigError(
      'amqpTransport({ url }) needs an "amqp://" or "amqps://" URL, such as "amqp://user:password@localhost:5672/vhost".',
    )
  }
  try {
    new URL(url)
  } catch {
    throw new ConfigError(
      'amqpTransport({ url }) is not a valid URL: check its host, port and percent-encoding.',
    )
  }
  const namespace = options.namespace ?? DEFAULTS.namespace
  if (typeof namespace !== 'string' || !NAMESPACE.test(namespace) || namespace.length > 100) {
    throw new ConfigError(
      `The amqp namespace ${JSON.stringify(namespace)} is not valid: use up to 100 lowercase letters and digits, optionally joined by single "-" or "_", such as "tidings" or "staging-eu".`,
    )
  }
  const queueType = options.queueType ?? DEFAULTS.queueType
  if (queueType !== 'classic' && queueType !== 'quorum') {
    throw new ConfigError(
      `The amqp queueType must be "classic" or "quorum", got ${JSON.stringify(queueType)}.`,
    )
  }
  const reconnect = { ...DEFAULTS.reconnect, ...(options.reconnect ?? {}) }
  const resolved: ResolvedOptions = {
    url,
    namespace,
    queueType,
    publishTimeoutMs: integer('publishTimeoutMs', options.publishTimeoutMs ?? DEFAULTS.publishTimeoutMs, 1),
    prefetch: options.prefetch === undefined ? undefined : integer('prefetch', options.prefetch, 1, 65_535),
    deliveryLimit:
      options.deliveryLimit === undefined ? undefined : integer('deliveryLimit', options.deliveryLimit, 1),
    maxMessageBytes: integer(
      'maxMessageBytes',
      options.maxMessageBytes ?? DEFAULTS.maxMessageBytes,
      1024,
      RABBITMQ_MAX_MESSAGE_BYTES,
    ),
    connectTimeoutMs: integer('connectTimeoutMs', options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs, 0),
    heartbeatSeconds: integer(
      'heartbeatSeconds',
      options.heartbeatSeconds ?? DEFAULTS.heartbeatSeconds,
      0,
      3600,
    ),
    reconnect: {
      initialDelayMs: integer('reconnect.initialDelayMs', reconnect.initialDelayMs, 1),
      maxDelayMs: integer('reconnect.maxDelayMs', reconnect.maxDelayMs, 1),
      factor: number('reconnect.factor', reconnect.factor, 1, 100),
      jitter: number('reconnect.jitter', reconnect.jitter, 0, 1),
    },
  }
  if (resolved.reconnect.maxDelayMs < resolved.reconnect.initialDelayMs) {
    throw new ConfigError(
      `The amqp reconnect.maxDelayMs (${resolved.reconnect.maxDelayMs}) must be at least reconnect.initialDelayMs (${resolved.reconnect.initialDelayMs}).`,
    )
  }
  return resolved
}

function integer(name: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(
      `The amqp option ${name} must be an integer from ${min} to ${max === Number.MAX_SAFE_INTEGER ? 'any size' : max}, got ${JSON.stringify(value) ?? String(value)}.`,
    )
  }
  return value
}

function number(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new ConfigError(
      `The amqp option ${name} must be a number from ${min} to ${max}, got ${JSON.stringify(value) ?? String(value)}.`,
    )
  }
  return value
}

/** The floor of a derived delivery limit: what every quorum queue got before it was derived. */
const MIN_DELIVERY_LIMIT = 20

/**
 * Quorum queues' `x-delivery-limit`, the broker's net for crash loops core cannot see: the explicit
 * option if given, else from the listener's maxAttempts, above it (core dead-letters a crash loop at
 * maxAttempts itself), and never below 20, so queues declared before keep the same argument.
 */
export function deliveryLimitFor(options: ResolvedOptions, maxAttempts: number): number {
  if (options.deliveryLimit !== undefined) return options.deliveryLimit
  if (!Number.isFinite(maxAttempts)) return MIN_DELIVERY_LIMIT
  return Math.max(MIN_DELIVERY_LIMIT, maxAttempts * 2)
}
