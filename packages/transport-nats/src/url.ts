import { ConfigError, readUrlOptions, redactUrl, type UrlParameter } from '@tidings/core/transport'
import { natsTransport } from './nats-transport.js'
import { assertNamespace, type NatsTransportOptions, NUMERIC_OPTIONS } from './options.js'

const PARAMETERS: Readonly<Record<string, UrlParameter>> = {
  namespace: { kind: 'string' },
  tls: { kind: 'boolean' },
  ...Object.fromEntries(
    Object.entries(NUMERIC_OPTIONS).map(([name, bounds]) => [name, { kind: 'integer', ...bounds } as const]),
  ),
}

/**
 * `TIDINGS_URL=nats://user:password@host:4222?namespace=staging&publishTimeoutMs=5000` → a transport.
 * A user name alone is a token (`nats://s3cr3t@host:4222`); `tls=true` connects with TLS.
 */
export function createTransportFromUrl(url: string) {
  return natsTransport(transportOptionsFromUrl(url))
}

export function transportOptionsFromUrl(url: string): NatsTransportOptions {
  if (typeof url !== 'string')
    throw new ConfigError('The NATS URL must be a string such as "nats://127.0.0.1:4222".')
  const { options, url: connection } = readUrlOptions(url, 'NATS', PARAMETERS)
  if (connection.protocol !== 'nats:') {
    throw new ConfigError(
      `The NATS URL must start with nats://; got "${connection.protocol}//" in ${redactUrl(url)}.`,
    )
  }
  if (connection.hostname === '') {
    throw new ConfigError(`The NATS URL ${redactUrl(url)} has no host: write it as nats://host:4222.`)
  }
  if (connection.pathname !== '' && connection.pathname !== '/') {
    throw new ConfigError(
      `The NATS URL ${redactUrl(url)} has a path; NATS URLs have none: nats://host:4222?namespace=….`,
    )
  }
  if (options.namespace !== undefined) assertNamespace(options.namespace)
  const { tls, ...rest } = options
  if (tls === true) connection.searchParams.set('tls', 'true')
  return { ...(rest as Partial<NatsTransportOptions>), url: connection.href }
}
