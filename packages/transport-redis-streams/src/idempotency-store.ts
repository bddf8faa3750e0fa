import { ConfigError } from '@tidings/core'
import type { Cluster, Redis } from 'ioredis'
import { idempotencyKey } from './keys.js'
import { assertNamespace, DEFAULTS } from './options.js'

export interface RedisIdempotencyStoreOptions {
  readonly client: Redis | Cluster
  /** Same namespace as the transport's (default 'tidings'). */
  readonly namespace?: string
}

/**
 * SPEC G15 on Redis: one key per (group, event id), `<ns>:idem:<group>:<id>`, set with SET NX PX so it
 * expires after the window. Keyed by group, so services sharing a Redis never skip each other's events.
 * Structurally the core `IdempotencyStore` (has / remember).
 */
export interface RedisIdempotencyStore {
  has(group: string, eventId: string): Promise<boolean>
  remember(group: string, eventId: string, ttlMs: number): Promise<void>
}

export function redisIdempotencyStore(options: RedisIdempotencyStoreOptions): RedisIdempotencyStore {
  if (!options?.client || typeof options.client.set !== 'function') {
    throw new ConfigError('redisIdempotencyStore({ client }) needs an ioredis Redis or Cluster instance.')
  }
  const namespace = options.namespace ?? DEFAULTS.namespace
  assertNamespace(namespace)
  const { client } = options
  return {
    async has(group, eventId) {
      return (await client.exists(idempotencyKey(namespace, group, eventId))) === 1
    },
    async remember(group, eventId, ttlMs) {
      if (!Number.isInteger(ttlMs) || ttlMs < 1) {
        throw new ConfigError(
          `The idempotency window must be a whole number of milliseconds ≥ 1; got ${String(ttlMs)}.`,
        )
      }
      await client.set(idempotencyKey(namespace, group, eventId), '1', 'PX', ttlMs, 'NX')
    },
  }
}
