import { randomBytes } from 'node:crypto'
import { ConfigError, type IdempotencyClaim } from '@tidings/core'
import type { Cluster, Redis } from 'ioredis'
import { idempotencyKey } from './keys.js'
import { assertNamespace, DEFAULTS } from './options.js'

export interface RedisIdempotencyStoreOptions {
  readonly client: Redis | Cluster
  /** Same namespace as the transport's (default 'tidings'). */
  readonly namespace?: string | undefined
}

/**
 * SPEC G15 on Redis: one key per (group, event id), `<ns>:idem:<group>:<id>`. A claim is SET NX PX
 * with this process's token for the handler's lease; a confirmed id holds "handled" for the window;
 * a release deletes the key only while it still holds this claim's token (a lapsed claim taken over
 * by another copy is left alone). Keyed by group, so services sharing a Redis never skip each
 * other's events. Structurally core's `IdempotencyStore`.
 */
export interface RedisIdempotencyStore {
  claim(group: string, eventId: string, leaseMs: number): Promise<IdempotencyClaim>
  confirm(group: string, eventId: string, windowMs: number): Promise<void>
  release(group: string, eventId: string): Promise<void>
}

const HANDLED = 'handled'
/** Deletes the key only if it still holds the claim's token. */
const RELEASE_IF_OURS =
  "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"

export function redisIdempotencyStore(options: RedisIdempotencyStoreOptions): RedisIdempotencyStore {
  if (!options?.client || typeof options.client.set !== 'function') {
    throw new ConfigError('redisIdempotencyStore({ client }) needs an ioredis Redis or Cluster instance.')
  }
  const namespace = options.namespace ?? DEFAULTS.namespace
  assertNamespace(namespace)
  const { client } = options
  // One token per store (process): a claim is released only by the process that made it.
  const token = `running:${randomBytes(8).toString('hex')}`
  const milliseconds = (value: number, what: string): number => {
    if (!Number.isInteger(value) || value < 1) {
      throw new ConfigError(
        `The idempotency ${what} must be a whole number of milliseconds ≥ 1; got ${String(value)}.`,
      )
    }
    return value
  }
  return {
    async claim(group, eventId, leaseMs) {
      const key = idempotencyKey(namespace, group, eventId)
      for (let round = 0; round < 2; round += 1) {
        if ((await client.set(key, token, 'PX', milliseconds(leaseMs, 'lease'), 'NX')) === 'OK')
          return 'claimed'
        const held = await client.get(key)
        if (held === HANDLED) return 'handled'
        if (held !== null) return 'in-progress'
        // Expired between SET NX and GET: claim again.
      }
      return 'in-progress'
    },
    async confirm(group, eventId, windowMs) {
      await client.set(
        idempotencyKey(namespace, group, eventId),
        HANDLED,
        'PX',
        milliseconds(windowMs, 'window'),
      )
    },
    async release(group, eventId) {
      await client.eval(RELEASE_IF_OURS, 1, idempotencyKey(namespace, group, eventId), token)
    },
  }
}
