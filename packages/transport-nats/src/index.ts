/** What a user of this transport needs; adapter internals stay inside (tests import them from src/). */
export { type NatsTransport, natsTransport, supportsFilterSubjects } from './nats-transport.js'
export type { NatsTransportOptions } from './options.js'
export { createTransportFromUrl } from './url.js'
