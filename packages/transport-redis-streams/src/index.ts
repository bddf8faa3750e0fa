/** What a user of this transport needs; adapter internals stay inside (tests import them from src/). */
export {
  type RedisIdempotencyStore,
  type RedisIdempotencyStoreOptions,
  redisIdempotencyStore,
} from './idempotency-store.js'
export type { RedisStreamsTransportOptions } from './options.js'
export { type RedisStreamsTransport, redisStreamsTransport } from './redis-streams-transport.js'
export { createTransportFromUrl } from './url.js'
