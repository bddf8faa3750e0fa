import {
  ConfigError,
  readUrlOptions,
  redactUrl,
  type Transport,
  type UrlParameter,
} from '@tidings/core/transport'
import { assertNamespace, NUMERIC_OPTIONS, type RedisStreamsTransportOptions } from './options.js'
import { redisStreamsTransport } from './redis-streams-transport.js'

/** Query parameters of a `redis://` URL that configure Tidings; everything else in the URL goes to ioredis. */
const PARAMETERS: Readonly<Record<string, UrlParameter>> = {
  namespace: { kind: 'string' },
  ...Object.fromEntries(
    Object.entries(NUMERIC_OPTIONS).map(([name, [min, max]]) => [
      name,
      { kind: 'integer', min, max } as const,
    ]),
  ),
}

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
  const { options, url: connection } = readUrlOptions(
    url,
    'Redis',
    PARAMETERS,
    [],
    'Write it as redis://[user:password@]host:port[/db][?namespace=…]; pass other ioredis settings through redisStreamsTransport({ redisOptions }).',
  )
  if (connection.protocol !== 'redis:' && connection.protocol !== 'rediss:') {
    throw new ConfigError(
      `The Redis URL must start with redis:// or rediss:// (TLS); got "${connection.protocol}//".`,
    )
  }
  if (connection.pathname && connection.pathname !== '/' && !/^\/\d{1,2}$/.test(connection.pathname)) {
    throw new ConfigError(
      `The path of the Redis URL ${redactUrl(url)} must be a database number such as /0, or nothing.`,
    )
  }
  if (options.namespace !== undefined) assertNamespace(options.namespace)
  return { ...(options as Partial<RedisStreamsTransportOptions>), url: connection.href }
}
