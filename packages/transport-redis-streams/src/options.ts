import { type CommonTransportOptions, ConfigError } from '@tidings/core'
import type { Cluster, Redis, RedisOptions } from 'ioredis'

/** What `redisStreamsTransport()` accepts. Every duration is in milliseconds. */
export interface RedisStreamsTransportOptions extends CommonTransportOptions {
  /** `redis://[user:password@]host:port[/db]` or `rediss://…` (TLS). Either this or `client`. */
  readonly url?: string | undefined
  /**
   * An existing ioredis `Redis` or `Cluster`. The transport uses it for commands and `duplicate()`s it
   * for each subscription's blocking reads; it never disconnects a client it did not create.
   */
  readonly client?: Redis | Cluster | undefined
  /** Extra ioredis options when the transport creates the client from `url`. */
  readonly redisOptions?: RedisOptions | undefined
  /** Largest encoded event accepted, in bytes (default 1 MiB; Redis itself allows 512 MiB). */
  readonly maxMessageBytes?: number | undefined
  /** How long one blocking XREADGROUP waits for new entries before it is re-issued (default 2000). */
  readonly blockMs?: number | undefined
  /**
   * How often each subscription looks for deliveries left idle past `ackTimeoutMs` by another process
   * (XAUTOCLAIM). Default: a quarter of the subscription's ackTimeoutMs, between 50 and 5000.
   */
  readonly claimIntervalMs?: number | undefined
  /**
   * Entries a subscription may read ahead of its handlers, beyond `concurrency` (default: equal to
   * the subscription's concurrency; 0 reads only for free handler slots). They wait in the process,
   * leases extended, and are never handed to core beyond `concurrency`; reading the next batch while
   * the current one is being handled and acknowledged roughly doubles consume throughput.
   */
  readonly readAhead?: number | undefined
  /** How often each subscription moves due delayed retries back (default 100; bounds retry lateness). */
  readonly delayedPollMs?: number | undefined
  /** How often streams are trimmed of entries every group has acknowledged (default 1000; 0 disables). */
  readonly trimIntervalMs?: number | undefined
  /**
   * Optional hard cap: XADD … MAXLEN ~ n on the events stream. Off by default because it can drop
   * events a slow group has not read yet; acknowledged entries are trimmed without it.
   */
  readonly maxStreamLength?: number | undefined
  /** When a stream has no consumer group at all, keep its entries this long (default 10 min). */
  readonly orphanRetentionMs?: number | undefined
  /** An ephemeral (durable: false) group whose process stopped heart-beating this long is removed (default 60 s). */
  readonly ephemeralExpiryMs?: number | undefined
}

export interface ResolvedOptions {
  readonly namespace: string
  readonly publishTimeoutMs: number
  readonly maxMessageBytes: number
  readonly blockMs: number
  readonly claimIntervalMs: number | undefined
  readonly readAhead: number | undefined
  readonly delayedPollMs: number
  readonly trimIntervalMs: number
  readonly maxStreamLength: number | undefined
  readonly orphanRetentionMs: number
  readonly ephemeralExpiryMs: number
}

export const DEFAULTS = {
  namespace: 'tidings',
  publishTimeoutMs: 10_000,
  maxMessageBytes: 1024 * 1024,
  blockMs: 2000,
  delayedPollMs: 100,
  trimIntervalMs: 1000,
  orphanRetentionMs: 10 * 60_000,
  ephemeralExpiryMs: 60_000,
} as const

const NAMESPACE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/
const MAX_BULK_BYTES = 512 * 1024 * 1024

/** Numeric options: name → [minimum, maximum]. */
export const NUMERIC_OPTIONS = {
  publishTimeoutMs: [1, 3_600_000],
  maxMessageBytes: [1024, MAX_BULK_BYTES],
  blockMs: [1, 60_000],
  claimIntervalMs: [10, 3_600_000],
  readAhead: [0, 100_000],
  delayedPollMs: [5, 60_000],
  trimIntervalMs: [0, 3_600_000],
  maxStreamLength: [1000, Number.MAX_SAFE_INTEGER],
  orphanRetentionMs: [0, 365 * 86_400_000],
  ephemeralExpiryMs: [1000, 86_400_000],
} as const satisfies Record<string, readonly [number, number]>

export type NumericOption = keyof typeof NUMERIC_OPTIONS

export function assertNamespace(namespace: unknown): asserts namespace is string {
  if (typeof namespace !== 'string' || !NAMESPACE.test(namespace)) {
    throw new ConfigError(
      `redisStreamsTransport({ namespace }) must be 1 to 100 letters, digits, "_", "-" or "." starting with a letter or digit (no "{", "}" or ":", which Redis keys and hash tags use), such as "tidings" or "staging"; got ${describeValue(namespace)}.`,
    )
  }
}

export function assertNumericOption(name: NumericOption, value: unknown): asserts value is number {
  const [min, max] = NUMERIC_OPTIONS[name]
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(
      `redisStreamsTransport({ ${name} }) must be a whole number from ${min} to ${max}; got ${describeValue(value)}.`,
    )
  }
}

export function resolveOptions(options: RedisStreamsTransportOptions): ResolvedOptions {
  if (options === null || typeof options !== 'object') {
    throw new ConfigError(
      'redisStreamsTransport() needs an options object such as { url: "redis://localhost:6379" }.',
    )
  }
  if (options.url === undefined && options.client === undefined) {
    throw new ConfigError(
      'redisStreamsTransport() needs either `url` (such as "redis://localhost:6379") or `client` (an ioredis Redis or Cluster).',
    )
  }
  if (options.url !== undefined && options.client !== undefined) {
    throw new ConfigError(
      'redisStreamsTransport() takes either `url` or `client`, not both: remove one of them.',
    )
  }
  if (options.url !== undefined && (typeof options.url !== 'string' || !/^rediss?:\/\//.test(options.url))) {
    throw new ConfigError(
      'redisStreamsTransport({ url }) must start with "redis://" or "rediss://", such as "redis://localhost:6379".',
    )
  }
  if (
    options.client !== undefined &&
    (typeof options.client !== 'object' || typeof options.client.duplicate !== 'function')
  ) {
    throw new ConfigError('redisStreamsTransport({ client }) must be an ioredis Redis or Cluster instance.')
  }
  const namespace = options.namespace ?? DEFAULTS.namespace
  assertNamespace(namespace)
  const numeric = <K extends NumericOption>(name: K, fallback: number | undefined): number | undefined => {
    const value = options[name]
    if (value === undefined) return fallback
    assertNumericOption(name, value)
    return value
  }
  return {
    namespace,
    publishTimeoutMs: numeric('publishTimeoutMs', DEFAULTS.publishTimeoutMs)!,
    maxMessageBytes: numeric('maxMessageBytes', DEFAULTS.maxMessageBytes)!,
    blockMs: numeric('blockMs', DEFAULTS.blockMs)!,
    claimIntervalMs: numeric('claimIntervalMs', undefined),
    readAhead: numeric('readAhead', undefined),
    delayedPollMs: numeric('delayedPollMs', DEFAULTS.delayedPollMs)!,
    trimIntervalMs: numeric('trimIntervalMs', DEFAULTS.trimIntervalMs)!,
    maxStreamLength: numeric('maxStreamLength', undefined),
    orphanRetentionMs: numeric('orphanRetentionMs', DEFAULTS.orphanRetentionMs)!,
    ephemeralExpiryMs: numeric('ephemeralExpiryMs', DEFAULTS.ephemeralExpiryMs)!,
  }
}

function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)
  if (value === null) return 'null'
  if (typeof value === 'object') return Array.isArray(value) ? 'an array' : 'an object'
  return `${typeof value} ${String(value)}`
}
