import { randomBytes } from 'node:crypto'
import { silentLogger, type Transport } from '@tidings/core'
import { Redis } from 'ioredis'
import { afterEach, beforeEach } from 'vitest'
import { type RedisStreamsTransportOptions, redisStreamsTransport } from '../src/index.js'

export const REDIS_URL = process.env.TIDINGS_REDIS_URL ?? 'redis://127.0.0.1:6379'

export function randomNamespace(): string {
  return `trs${Date.now().toString(36)}${randomBytes(3).toString('hex')}`
}

/** Deletes every key of a namespace (streams, sets, idempotency keys). */
export async function deleteNamespace(namespace: string, url = REDIS_URL): Promise<void> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 })
  try {
    await client.connect()
    for (const match of [`{${namespace}}:*`, `${namespace}:*`]) {
      let cursor = '0'
      do {
        const [next, keys] = await client.scan(cursor, 'MATCH', match, 'COUNT', 1000)
        cursor = next
        if (keys.length > 0) await client.del(...keys)
      } while (cursor !== '0')
    }
  } finally {
    client.disconnect()
  }
}

/** A connected transport on the test's namespace with short timings. */
export async function connectTransport(
  namespace: string,
  options: Partial<RedisStreamsTransportOptions> = {},
): Promise<Transport> {
  const transport = redisStreamsTransport({
    url: REDIS_URL,
    namespace,
    blockMs: 500,
    delayedPollMs: 20,
    ...options,
  } as RedisStreamsTransportOptions)
  await transport.connect({ logger: silentLogger, notify: () => {} })
  return transport
}

/** Below the bus: encoded events, subscribe options and a delivery recorder, shared with every adapter's tests. */
export {
  encodedMessage as message,
  type RecordedDelivery as Received,
  recordDeliveries as record,
  subscribeOptions,
} from '@tidings/testkit'

export async function waitFor(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const started = Date.now()
  while (!check()) {
    if (Date.now() - started > timeoutMs)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(5)
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** A raw client for assertions. */
export function rawClient(url = REDIS_URL): Redis {
  return new Redis(url, { maxRetriesPerRequest: 1 })
}

/**
 * Per-test isolation for a describe block: a fresh namespace, a raw client, and transports opened
 * with `open()` that are closed (and the namespace's keys deleted) after each test.
 */
export function useRedisTestNamespace(): {
  readonly namespace: string
  readonly raw: Redis
  open(options?: Partial<RedisStreamsTransportOptions>): Promise<Transport>
} {
  let namespace = randomNamespace()
  let transports: Transport[] = []
  let raw: Redis | undefined
  beforeEach(() => {
    namespace = randomNamespace()
    transports = []
    raw = rawClient()
  })
  afterEach(async () => {
    await Promise.allSettled(transports.map((transport) => transport.close()))
    raw?.disconnect()
    await deleteNamespace(namespace)
  })
  return {
    get namespace() {
      return namespace
    },
    get raw() {
      return raw!
    },
    async open(options = {}) {
      const transport = await connectTransport(namespace, options)
      transports.push(transport)
      return transport
    },
  }
}
