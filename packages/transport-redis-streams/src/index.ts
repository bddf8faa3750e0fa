export {
  type RedisIdempotencyStore,
  type RedisIdempotencyStoreOptions,
  redisIdempotencyStore,
} from './idempotency-store.js'
export { type GroupKeys, type NamespaceKeys, namespaceKeys } from './keys.js'
export type { RedisStreamsTransportOptions } from './options.js'
export { RedisStreamsTransport, redisStreamsTransport } from './redis-streams-transport.js'
export { createTransportFromUrl, transportOptionsFromUrl } from './url.js'
