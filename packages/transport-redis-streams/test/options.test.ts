import { inspect } from 'node:util'
import { ConfigError, redactUrl, type Transport } from '@tidings/core'
import { afterAll, describe, expect, it } from 'vitest'
import { createTransportFromUrl, redisIdempotencyStore, redisStreamsTransport } from '../src/index.js'
import { transportOptionsFromUrl } from '../src/url.js'
import { connectTransport, deleteNamespace, randomNamespace, rawClient, subscribeOptions } from './support.js'

describe('redis-streams options and URL', () => {
  it('maps query parameters to options and keeps the rest of the URL for ioredis', () => {
    expect(
      transportOptionsFromUrl(
        'redis://u:secret@redis.local:6380/2?namespace=staging&publishTimeoutMs=5000&blockMs=100',
      ),
    ).toEqual({
      url: 'redis://u:secret@redis.local:6380/2',
      namespace: 'staging',
      publishTimeoutMs: 5000,
      blockMs: 100,
    })
    expect(transportOptionsFromUrl('rediss://redis.local').url).toBe('rediss://redis.local')
    const transport = createTransportFromUrl('redis://127.0.0.1:6379?maxMessageBytes=2048')
    expect(transport.name).toBe('redis-streams')
    expect(transport.maxMessageBytes).toBe(2048)
  })

  it('rejects bad options with ConfigError saying what to fix, never echoing credentials', () => {
    const cases: [() => unknown, RegExp][] = [
      [() => transportOptionsFromUrl('redis://u:hunter2@h?nope=1'), /unknown query parameter "nope"/],
      [
        () => transportOptionsFromUrl('redis://u:hunter2@h?publishTimeoutMs=soon'),
        /publishTimeoutMs.*whole number/,
      ],
      [() => transportOptionsFromUrl('redis://u:hunter2@h?namespace=a{b}'), /namespace/],
      [() => transportOptionsFromUrl('redis://u:hunter2@h/not-a-db'), /database number/],
      [() => transportOptionsFromUrl('amqp://u:hunter2@h'), /redis:\/\/ or rediss:\/\//],
      [() => redisStreamsTransport({}), /either `url`/],
      [() => redisStreamsTransport({ url: 'redis://h', blockMs: 0 }), /blockMs.*from 1/],
      [() => redisStreamsTransport({ url: 'redis://h', maxMessageBytes: 1.5 }), /maxMessageBytes/],
      [() => redisStreamsTransport({ url: 'http://u:hunter2@h' }), /must start with "redis:\/\/"/],
    ]
    for (const [call, message] of cases) {
      let thrown: unknown
      try {
        call()
      } catch (error) {
        thrown = error
      }
      expect(thrown).toBeInstanceOf(ConfigError)
      expect((thrown as Error).message).toMatch(message)
      expect((thrown as Error).message).not.toContain('hunter2')
    }
    expect(redactUrl('redis://user:hunter2@host:6379/1?x=y')).toBe('redis://***@host:6379/1')
  })

  it('rejects bad subscribe options with ConfigError', async () => {
    const namespace = randomNamespace()
    const transport: Transport = await connectTransport(namespace)
    try {
      await expect(
        transport.subscribe(subscribeOptions('bad{group}', ['a']), async () => {}),
      ).rejects.toBeInstanceOf(ConfigError)
      await expect(
        transport.subscribe(subscribeOptions('ok', ['a'], { concurrency: 0 }), async () => {}),
      ).rejects.toThrow(/concurrency/)
    } finally {
      await transport.close()
      await deleteNamespace(namespace)
    }
  })

  it('connect() fails clearly, without credentials, when Redis cannot be reached', async () => {
    const transport = redisStreamsTransport({ url: 'redis://me:hunter2@127.0.0.1:1', publishTimeoutMs: 300 })
    const error = await transport
      .connect({ logger: { debug() {}, info() {}, warn() {}, error() {} }, notify: () => {} })
      .then(
        () => undefined,
        (e: unknown) => e as Error,
      )
    expect(error?.message).toMatch(/Could not connect to Redis at redis:\/\/\*\*\*@127\.0\.0\.1:1/)
    expect(error?.message).not.toContain('hunter2')
    await transport.close()
  })
})

describe('redis idempotency store', () => {
  const client = rawClient()
  const namespace = randomNamespace()
  afterAll(async () => {
    client.disconnect()
    await deleteNamespace(namespace)
  })

  it('claims an id atomically, confirms it for the window, and releases only its own claim', async () => {
    const store = redisIdempotencyStore({ client, namespace })
    const other = redisIdempotencyStore({ client, namespace }) // another process
    const claims = await Promise.all([
      store.claim('shipping-create', 'e1', 1000),
      other.claim('shipping-create', 'e1', 1000),
    ])
    expect(claims.sort()).toEqual(['claimed', 'in-progress'])
    expect(await store.claim('billing-invoice', 'e1', 1000)).toBe('claimed') // keyed by group
    const winner = claims[0] === 'claimed' ? store : other
    const loser = winner === store ? other : store
    await loser.release('shipping-create', 'e1') // not its claim: nothing happens
    expect(await loser.claim('shipping-create', 'e1', 1000)).toBe('in-progress')
    await winner.release('shipping-create', 'e1') // the handler failed: the retry may run
    expect(await loser.claim('shipping-create', 'e1', 1000)).toBe('claimed')
    await loser.confirm('shipping-create', 'e1', 200)
    expect(await winner.claim('shipping-create', 'e1', 1000)).toBe('handled')
    const ttl = await client.pttl(`${namespace}:idem:shipping-create:e1`)
    expect(ttl).toBeGreaterThan(0)
    expect(ttl).toBeLessThanOrEqual(200)
    await new Promise((resolve) => setTimeout(resolve, 250))
    expect(await winner.claim('shipping-create', 'e1', 1000)).toBe('claimed') // the window passed
    expect(() => redisIdempotencyStore({ client, namespace: 'bad:ns' })).toThrow(ConfigError)
  })
})

describe('transport-redis-streams inspected', () => {
  it('never shows the password in util.inspect or JSON', () => {
    const transport = redisStreamsTransport({ url: 'redis://shop:pa55word@127.0.0.1:6379/0' })
    for (const text of [inspect(transport, { depth: 20, showHidden: true }), JSON.stringify(transport)]) {
      expect(text).not.toContain('pa55word')
    }
    expect(inspect(transport)).toContain('***@127.0.0.1')
  })
})
