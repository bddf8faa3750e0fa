import type { Transport } from '@tidings/core'
import { amqpTransport } from './amqp-transport.js'
import { optionsFromUrl } from './url.js'

export { AmqpTransport, amqpTransport } from './amqp-transport.js'
export { bucketDelay } from './delays.js'
export { AmqpConnectionError } from './errors.js'
export { HEADER as AMQP_HEADERS } from './headers.js'
export type { AmqpTransportOptions, QueueType, ReconnectOptions } from './options.js'
export { Names as AmqpNames } from './topology.js'
export { optionsFromUrl, redactUrl } from './url.js'

/**
 * Entry point of URL resolution: core imports this package for `amqp:` and `amqps:` URLs.
 * Query parameters become options: `amqp://user:pw@host/vhost?namespace=shop&queueType=quorum`.
 */
export function createTransportFromUrl(url: string): Transport {
  return amqpTransport(optionsFromUrl(url))
}
