import type { NodeConnectionOptions } from '@nats-io/transport-node'
import { type CommonTransportOptions, ConfigError, describeValue } from '@tidings/core/transport'

/** What `natsTransport()` accepts. Every duration is in milliseconds. */
export interface NatsTransportOptions extends CommonTransportOptions {
  /**
   * `nats://[user:password@|token@]host:port[,host:port…][?namespace=…]`. `tls=true` in the query (or
   * the `tls` option) connects with TLS. Either this or `servers`.
   */
  readonly url?: string | undefined
  /** Servers as nats.js takes them (`'host:port'` or a list); use with `user`/`password`/`token`. */
  readonly servers?: string | readonly string[] | undefined
  readonly user?: string | undefined
  readonly password?: string | undefined
  readonly token?: string | undefined
  /** TLS settings handed to nats.js (`{ caFile, certFile, keyFile }` or `{}` for system CAs). */
  readonly tls?: NodeConnectionOptions['tls'] | undefined
  /** Any other nats.js connection option; Tidings' own (reconnect forever, name) win. */
  readonly connectionOptions?:
    | Omit<NodeConnectionOptions, 'servers' | 'user' | 'pass' | 'token' | 'tls'>
    | undefined
  /** How long the first connection may take (default: publishTimeoutMs). */
  readonly connectTimeoutMs?: number | undefined
  /** Replicas of both streams (default 1; 3 or 5 on a cluster). */
  readonly replicas?: number | undefined
  /** Events older than this are removed from the events stream even if a group did not read them (default 0 = never). */
  readonly maxAgeMs?: number | undefined
  /** Size cap of the events stream in bytes; the oldest go first (default -1 = none). */
  readonly maxBytes?: number | undefined
  /** Dead letters older than this are removed (default 0 = never). */
  readonly deadLetterMaxAgeMs?: number | undefined
  /** The server drops a publish whose event id it saw within this window (default 120000). */
  readonly duplicateWindowMs?: number | undefined
  /**
   * Deliveries a subscription may hold beyond `concurrency` (default: equal to concurrency). They
   * wait in core, in order, with their leases renewed; pulling the next batch while the current one
   * is handled keeps the pipe full.
   */
  readonly readAhead?: number | undefined
  /** How long one pull request waits on the server for messages before it is re-issued (default 5000). */
  readonly pullExpiresMs?: number | undefined
  /** `max_ack_pending` of each group's consumers: unacknowledged messages over all its processes (default 10000). */
  readonly maxAckPending?: number | undefined
  /** An ephemeral (durable: false) group whose process vanished is removed by the server after this (default 60000). */
  readonly ephemeralInactiveMs?: number | undefined
  /** Largest encoded event accepted (default: the server's max_payload, read when connected). */
  readonly maxMessageBytes?: number | undefined
}

export interface ResolvedOptions {
  readonly namespace: string
  readonly publishTimeoutMs: number
  readonly connectTimeoutMs: number
  readonly replicas: number
  readonly maxAgeMs: number
  readonly maxBytes: number
  readonly deadLetterMaxAgeMs: number
  readonly duplicateWindowMs: number
  readonly readAhead: number | undefined
  readonly pullExpiresMs: number
  readonly maxAckPending: number
  readonly ephemeralInactiveMs: number
  readonly maxMessageBytes: number | undefined
}

/** Integer options with their bounds: one table for the constructor and the URL. */
export const NUMERIC_OPTIONS = {
  publishTimeoutMs: { min: 1, max: 2 ** 31 - 1 },
  connectTimeoutMs: { min: 1, max: 2 ** 31 - 1 },
  replicas: { min: 1, max: 5 },
  maxAgeMs: { min: 0, max: Number.MAX_SAFE_INTEGER },
  maxBytes: { min: -1, max: Number.MAX_SAFE_INTEGER },
  deadLetterMaxAgeMs: { min: 0, max: Number.MAX_SAFE_INTEGER },
  duplicateWindowMs: { min: 100, max: 7 * 24 * 3_600_000 },
  readAhead: { min: 0, max: 65_535 },
  pullExpiresMs: { min: 1000, max: 600_000 },
  maxAckPending: { min: 1, max: 1_000_000 },
  ephemeralInactiveMs: { min: 1000, max: 7 * 24 * 3_600_000 },
  maxMessageBytes: { min: 1024, max: 64 * 1024 * 1024 },
} as const

export type NumericOption = keyof typeof NUMERIC_OPTIONS

const NAMESPACE = /^[a-z0-9]+([_-][a-z0-9]+)*$/i

export function assertNamespace(namespace: unknown): asserts namespace is string {
  if (typeof namespace !== 'string' || namespace.length > 64 || !NAMESPACE.test(namespace)) {
    throw new ConfigError(
      `The NATS namespace must be letters and digits, optionally joined by single "-" or "_", at most 64 characters (it prefixes stream names and subjects), such as "shop"; got ${describeValue(namespace)}.`,
    )
  }
}

export function assertNumericOption(name: NumericOption, value: unknown): asserts value is number {
  const { min, max } = NUMERIC_OPTIONS[name]
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(
      `natsTransport({ ${name} }) must be a whole number from ${min} to ${max}; got ${describeValue(value)}.`,
    )
  }
}

export function resolveOptions(options: NatsTransportOptions): ResolvedOptions {
  if (options === null || typeof options !== 'object') {
    throw new ConfigError(
      `natsTransport(options) needs an options object such as { url: 'nats://127.0.0.1:4222' }; got ${describeValue(options)}.`,
    )
  }
  if (options.url === undefined && options.servers === undefined) {
    throw new ConfigError(
      "natsTransport() needs a server: pass { url: 'nats://127.0.0.1:4222' } or { servers: '127.0.0.1:4222' }.",
    )
  }
  if (options.url !== undefined && options.servers !== undefined) {
    throw new ConfigError('natsTransport(): pass either url or servers, not both.')
  }
  if (options.url !== undefined && typeof options.url !== 'string') {
    throw new ConfigError(
      `natsTransport({ url }) must be a string such as "nats://127.0.0.1:4222"; got ${describeValue(options.url)}.`,
    )
  }
  const namespace = options.namespace ?? 'tidings'
  assertNamespace(namespace)
  const numbers: Partial<Record<NumericOption, number>> = {}
  for (const name of Object.keys(NUMERIC_OPTIONS) as NumericOption[]) {
    const value = options[name]
    if (value === undefined) continue
    assertNumericOption(name, value)
    numbers[name] = value
  }
  const publishTimeoutMs = numbers.publishTimeoutMs ?? 10_000
  return {
    namespace,
    publishTimeoutMs,
    connectTimeoutMs: numbers.connectTimeoutMs ?? publishTimeoutMs,
    replicas: numbers.replicas ?? 1,
    maxAgeMs: numbers.maxAgeMs ?? 0,
    maxBytes: numbers.maxBytes ?? -1,
    deadLetterMaxAgeMs: numbers.deadLetterMaxAgeMs ?? 0,
    duplicateWindowMs: numbers.duplicateWindowMs ?? 120_000,
    readAhead: numbers.readAhead,
    pullExpiresMs: numbers.pullExpiresMs ?? 5000,
    maxAckPending: numbers.maxAckPending ?? 10_000,
    ephemeralInactiveMs: numbers.ephemeralInactiveMs ?? 60_000,
    maxMessageBytes: numbers.maxMessageBytes,
  }
}
