import type { Transport } from '@tidings/core'
import { amqpTransport } from './amqp-transport.js'
import { optionsFromUrl } from './url.js'

export { type AmqpTransport, amqpTransport } from './amqp-transport.js'
export { AmqpConnectionError } from './errors.js'
export type { AmqpTransportOptions, QueueType, ReconnectOptions } from './options.js'

/**
 * Entry point of URL resolution: core imports this package for `amqp:` and `amqps:` URLs.
 * Query parameters become options: `amqp://user:pw@host/vhost?namespace=shop&queueType=quorum`.
 */
export function createTransportFromUrl(url: string): Transport {
  return amqpTransport(optionsFromUrl(url))
}
