import { ConfigError, redactUrl, type Transport } from '@tidings/core'
import {
  assertNamespace,
  assertNumericOption,
  NUMERIC_OPTIONS,
  type NumericOption,
  type RedisStreamsTransportOptions,
} from './options.js'
import { redisStreamsTransport } from './redis-streams-transport.js'

/** Query parameters of a `redis://` URL that configure Tidings; everything else in the URL goes to ioredis. */
const TIDINGS_PARAMETERS = ['namespace', ...Object.keys(NUMERIC_OPTIONS)] as const

/**
 * `TIDINGS_URL=redis://user:password@host:6379/0?namespace=staging&publishTimeoutMs=5000` →
 * a transport. Core's URL resolution calls this for `redis:` and `rediss:` (TLS).
 */
export function createTransportFromUrl(url: string): Transport {
  return redisStreamsTransport(transportOptionsFromUrl(url))
}

export function transportOptionsFromUrl(url: string): RedisStreamsTransportOptions {
  if (typeof url !== 'string')
    throw new ConfigError('The Redis URL must be a string such as "redis://localhost:6379".')
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new ConfigError(
      `The Redis URL ${redactUrl(url)} is not a valid URL: use redis://[user:password@]host:port[/db][?namespace=…].`,
    )
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new ConfigError(
      `The Redis URL must start with redis:// or rediss:// (TLS); got "${parsed.protocol}//".`,
    )
  }
  if (parsed.pathname && parsed.pathname !== '/' && !/^\/\d{1,2}$/.test(parsed.pathname)) {
    throw new ConfigError(
      `The path of the Redis URL ${redactUrl(url)} must be a database number such as /0, or nothing.`,
    )
  }
  const options: Record<string, unknown> = {}
  for (const [name, value] of parsed.searchParams) {
    if (!(TIDINGS_PARAMETERS as readonly string[]).includes(name)) {
      throw new ConfigError(
        `The Redis URL has an unknown query parameter "${name}": use only ${TIDINGS_PARAMETERS.join(', ')} (pass other ioredis settings through redisStreamsTransport({ redisOptions })).`,
      )
    }
    if (name === 'namespace') {
      assertNamespace(value)
      options.namespace = value
      continue
    }
    const number = value.trim() === '' ? Number.NaN : Number(value)
    assertNumericOption(name as NumericOption, number)
    options[name] = number
  }
  const connection = new URL(parsed.href)
  connection.search = ''
  return { ...options, url: connection.href }
}
