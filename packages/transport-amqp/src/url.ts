import { ConfigError, readUrlOptions, type UrlParameter } from '@tidings/core/transport'

export { redactUrl } from '@tidings/core'

import type { AmqpTransportOptions, ReconnectOptions } from './options.js'

/**
 * Query parameters Tidings reads itself; they are removed before the URL reaches amqplib. Bounds are
 * checked here only as "a whole number": amqpTransport() checks each option's own range.
 */
const WHOLE = { kind: 'integer', min: 0, max: Number.MAX_SAFE_INTEGER } as const
const PARAMETERS: Readonly<Record<string, UrlParameter>> = {
  namespace: { kind: 'string' },
  queueType: { kind: 'string' },
  prefetch: WHOLE,
  publishTimeoutMs: WHOLE,
  deliveryLimit: WHOLE,
  maxMessageBytes: WHOLE,
  connectTimeoutMs: WHOLE,
  heartbeat: { ...WHOLE, option: 'heartbeatSeconds' },
  reconnectInitialDelayMs: WHOLE,
  reconnectMaxDelayMs: WHOLE,
}
/** Understood by amqplib; passed through untouched. */
const AMQPLIB_PARAMETERS = ['frameMax', 'channelMax', 'locale']

/**
 * Options from a `TIDINGS_URL` such as `amqp://user:pw@host/vhost?namespace=shop&queueType=quorum`.
 * Every Tidings parameter is validated later by amqpTransport(); unknown ones are refused here (the
 * kit's one rule) so a typo does not silently fall back to a default.
 */
export function optionsFromUrl(url: string): AmqpTransportOptions {
  if (typeof url !== 'string')
    throw new ConfigError('The amqp URL must be a string such as "amqp://localhost:5672".')
  const { options } = readUrlOptions(
    url,
    'amqp',
    PARAMETERS,
    AMQPLIB_PARAMETERS,
    'Write it as amqp://user:password@host:5672/vhost?namespace=… (percent-encode special characters).',
  )
  const parsed = new URL(url)
  if (parsed.protocol !== 'amqp:' && parsed.protocol !== 'amqps:') {
    throw new ConfigError(`The amqp transport reads "amqp:" and "amqps:" URLs, got "${parsed.protocol}".`)
  }
  const { reconnectInitialDelayMs, reconnectMaxDelayMs, ...rest } = options
  const reconnect: { -readonly [K in keyof ReconnectOptions]: ReconnectOptions[K] } = {}
  if (reconnectInitialDelayMs !== undefined) reconnect.initialDelayMs = reconnectInitialDelayMs as number
  if (reconnectMaxDelayMs !== undefined) reconnect.maxDelayMs = reconnectMaxDelayMs as number
  return {
    ...(rest as Partial<AmqpTransportOptions>),
    url,
    ...(Object.keys(reconnect).length > 0 ? { reconnect } : {}),
  }
}

/** The URL handed to amqplib: Tidings parameters removed, the heartbeat set. */
export function connectionUrl(url: string, heartbeatSeconds: number): string {
  const parsed = new URL(url)
  for (const name of [...parsed.searchParams.keys()]) {
    if (!AMQPLIB_PARAMETERS.includes(name)) parsed.searchParams.delete(name)
  }
  parsed.searchParams.set('heartbeat', String(heartbeatSeconds))
  return parsed.toString()
}
