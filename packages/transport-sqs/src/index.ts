/** What a user of this transport needs; adapter internals stay inside (tests import them from src/). */
export type { SqsTransportOptions } from './options.js'
export { type SqsTransport, sqsTransport } from './sqs-transport.js'
export { createTransportFromUrl } from './url.js'
