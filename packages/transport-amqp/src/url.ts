import { ConfigError } from '@tidings/core'

export { redactUrl } from '@tidings/core'

import type { AmqpTransportOptions, QueueType, ReconnectOptions } from './options.js'

/** Query parameters Tidings reads itself; they are removed before the URL reaches amqplib. */
const INTEGER_PARAMETERS = {
  prefetch: 'prefetch',
  publishTimeoutMs: 'publishTimeoutMs',
  deliveryLimit: 'deliveryLimit',
  maxMessageBytes: 'maxMessageBytes',
  connectTimeoutMs: 'connectTimeoutMs',
  heartbeat: 'heartbeatSeconds',
} as const
const RECONNECT_PARAMETERS = {
  reconnectInitialDelayMs: 'initialDelayMs',
  reconnectMaxDelayMs: 'maxDelayMs',
} as const
/** Understood by amqplib; passed through untouched. */
const AMQPLIB_PARAMETERS = new Set(['frameMax', 'channelMax', 'locale'])

/**
 * Options from a `TIDINGS_URL` such as `amqp://user:pw@host/vhost?namespace=shop&queueType=quorum`.
 * Every Tidings parameter is validated later by amqpTransport(); unknown ones are refused here so a
 * typo does not silently fall back to a default.
 */
export function optionsFromUrl(url: string): AmqpTransportOptions {
  if (typeof url !== 'string')
    throw new ConfigError('The amqp URL must be a string such as "amqp://localhost:5672".')
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new ConfigError(
      'The amqp URL is not valid: use "amqp://user:password@host:5672/vhost?namespace=…" (percent-encode special characters).',
    )
  }
  if (parsed.protocol !== 'amqp:' && parsed.protocol !== 'amqps:') {
    throw new ConfigError(`The amqp transport reads "amqp:" and "amqps:" URLs, got "${parsed.protocol}".`)
  }
  const options: {
    -readonly [K in keyof AmqpTransportOptions]: AmqpTransportOptions[K]
  } = { url }
  const reconnect: { -readonly [K in keyof ReconnectOptions]: ReconnectOptions[K] } = {}
  for (const [name, value] of parsed.searchParams) {
    if (name === 'namespace') options.namespace = value
    else if (name === 'queueType') options.queueType = value as QueueType
    else if (name in INTEGER_PARAMETERS) {
      options[INTEGER_PARAMETERS[name as keyof typeof INTEGER_PARAMETERS]] = integerParameter(name, value)
    } else if (name in RECONNECT_PARAMETERS) {
      reconnect[RECONNECT_PARAMETERS[name as keyof typeof RECONNECT_PARAMETERS]] = integerParameter(
        name,
        value,
      )
    } else if (!AMQPLIB_PARAMETERS.has(name)) {
      const known = [
        'namespace',
        'queueType',
        ...Object.keys(INTEGER_PARAMETERS),
        ...Object.keys(RECONNECT_PARAMETERS),
      ]
      throw new ConfigError(
        `The amqp URL has an unknown query parameter "${name}": use one of ${[...known, ...AMQPLIB_PARAMETERS].join(', ')}.`,
      )
    }
  }
  if (Object.keys(reconnect).length > 0) options.reconnect = reconnect
  return options
}

function integerParameter(name: string, value: string): number {
  if (!/^\d{1,15}$/.test(value)) {
    throw new ConfigError(
      `The amqp URL parameter ${name} must be a whole number, got ${JSON.stringify(value)}.`,
    )
  }
  return Number(value)
}

/** The URL handed to amqplib: Tidings parameters removed, the heartbeat set. */
export function connectionUrl(url: string, heartbeatSeconds: number): string {
  const parsed = new URL(url)
  for (const name of [...parsed.searchParams.keys()]) {
    if (!AMQPLIB_PARAMETERS.has(name)) parsed.searchParams.delete(name)
  }
  parsed.searchParams.set('heartbeat', String(heartbeatSeconds))
  return parsed.toString()
}
