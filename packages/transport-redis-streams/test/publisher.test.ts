import { PublishError, type Transport } from '@tidings/core'
import { createTcpProxy, type TcpProxy } from '@tidings/testkit'
import type { Redis } from 'ioredis'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { namespaceKeys } from '../src/keys.js'
import { resolveOptions } from '../src/options.js'
import { PublishTimeouts, type TimedPublish } from '../src/publish-timeouts.js'
import { Publisher } from '../src/publisher.js'
import { connectTransport, deleteNamespace, message, REDIS_URL, randomNamespace } from './support.js'

/** A stand-in for a ready ioredis client: records XADDs and socket corking, replies when told. */
function fakeClient() {
  const calls: string[] = []
  const replies: { resolve: (id: string) => void; reject: (error: Error) => void; args: unknown[] }[] = []
  const client = {
    status: 'ready',
    stream: {
      cork: () => calls.push('cork'),
      uncork: () => calls.push('uncork'),
    },
    xadd: (...args: unknown[]) => {
      calls.push('xadd')
      return new Promise<string>((resolve, reject) => replies.push({ resolve, reject, args }))
    },
  }
  return { client: client as unknown as Redis, calls, replies }
}

function fakePublisher(publishTimeoutMs = 10_000) {
  const fake = fakeClient()
  const publisher = new Publisher(
    fake.client,
    namespaceKeys('pubtest'),
    resolveOptions({ url: REDIS_URL, namespace: 'pubtest', publishTimeoutMs }),
  )
  return { publisher, ...fake }
}

const tick = () => new Promise((resolve) => setImmediate(resolve))

describe('redis-streams publisher', () => {
  it('writes a lone publish at once, without corking the socket', async () => {
    const { publisher, calls, replies } = fakePublisher()
    const published = publisher.publish(message('order.placed'))
    expect(calls).toEqual(['xadd'])
    await tick()
    expect(calls).toEqual(['xadd'])
    replies[0]!.resolve('1-0')
    await expect(published).resolves.toBeUndefined()
  })

  it('holds the second and later publishes of one tick in the socket and writes them at the end of the tick', async () => {
    const { publisher, calls, replies } = fakePublisher()
    const published = [1, 2, 3].map((i) => publisher.publish(message('order.placed', { i })))
    expect(calls).toEqual(['xadd', 'cork', 'xadd', 'xadd'])
    await tick()
    expect(calls).toEqual(['xadd', 'cork', 'xadd', 'xadd', 'uncork'])
    for (const reply of replies) reply.resolve('1-0')
    await Promise.all(published)
    // The next tick starts over: its first publish is written at once again.
    void publisher.publish(message('order.placed'))
    expect(calls.slice(5)).toEqual(['xadd'])
  })

  it('fails only the publish whose XADD Redis refused, with a PublishError naming its event', async () => {
    const { publisher, replies } = fakePublisher()
    const first = publisher.publish(message('order.placed'))
    const second = publisher.publish(message('order.refused'))
    const third = publisher.publish(message('order.placed'))
    replies[0]!.resolve('1-0')
    replies[1]!.reject(new Error('OOM command not allowed when used memory > maxmemory'))
    replies[2]!.resolve('1-1')
    await expect(first).resolves.toBeUndefined()
    await expect(third).resolves.toBeUndefined()
    const error = await second.catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(PublishError)
    expect((error as Error).message).toMatch(/rejected the event "order.refused" \(OOM/)
  })

  it('rejects with a PublishError after publishTimeoutMs when Redis does not answer, and ignores a late reply', async () => {
    const { publisher, replies } = fakePublisher(100)
    const started = performance.now()
    const late = publisher.publish(message('order.placed'))
    const error = await late.catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(PublishError)
    expect((error as Error).message).toMatch(/within publishTimeoutMs=100 ms/)
    expect(performance.now() - started).toBeGreaterThanOrEqual(95)
    expect(performance.now() - started).toBeLessThan(1000)
    replies[0]!.resolve('1-0') // too late: nothing happens
    const next = publisher.publish(message('order.placed'))
    replies[1]!.resolve('1-1')
    await expect(next).resolves.toBeUndefined()
  })
})

describe('PublishTimeouts', () => {
  const entry = (): TimedPublish & { expired: number; settled: boolean } => ({
    settled: false,
    due: 0,
    expired: 0,
    expire() {
      this.expired += 1
    },
  })

  it('expires only what is still unsettled, in order, and keeps no settled entries under steady traffic', async () => {
    const timeouts = new PublishTimeouts<ReturnType<typeof entry>>(50)
    const entries = Array.from({ length: 5 }, entry)
    for (const each of entries) timeouts.add(each)
    entries[0]!.settled = true
    entries[2]!.settled = true
    await new Promise((resolve) => setTimeout(resolve, 120))
    expect(entries.map((each) => each.expired)).toEqual([0, 1, 0, 1, 1])
    expect(timeouts.size).toBe(0)
    for (let i = 0; i < 10_000; i += 1) {
      const each = entry()
      timeouts.add(each)
      each.settled = true
    }
    expect(timeouts.size).toBeLessThanOrEqual(1)
  })
})

describe('redis-streams publish on a real server', () => {
  let namespace: string
  let transports: Transport[]
  let proxy: TcpProxy | undefined

  beforeEach(() => {
    namespace = randomNamespace()
    transports = []
    proxy = undefined
  })

  afterEach(async () => {
    await Promise.allSettled(transports.map((transport) => transport.close()))
    await proxy?.close()
    await deleteNamespace(namespace)
  })

  it('stores a burst of publishes from one tick in the order they were made', async () => {
    const transport = await connectTransport(namespace)
    transports.push(transport)
    const sent = Array.from({ length: 500 }, (_, i) => message('order.placed', { i }))
    await Promise.all(sent.map((each) => transport.publish(each)))
    const { Redis } = await import('ioredis')
    const probe = new Redis(REDIS_URL)
    const entries = await probe.xrange(`{${namespace}}:events`, '-', '+')
    probe.disconnect()
    const ids = entries.map(([, fields]) => fields[fields.indexOf('id') + 1])
    expect(ids).toEqual(sent.map((each) => each.id))
  })

  it('rejects publishes with a PublishError after publishTimeoutMs while Redis is unreachable, and publishes again once it is back', async () => {
    const target = new URL(REDIS_URL)
    proxy = await createTcpProxy({ host: target.hostname, port: Number(target.port || 6379) })
    const transport = await connectTransport(namespace, {
      url: `redis://${proxy.host}:${proxy.port}`,
      publishTimeoutMs: 300,
    })
    transports.push(transport)
    await transport.publish(message('order.placed'))

    proxy.block()
    await new Promise((resolve) => setTimeout(resolve, 50))
    const started = performance.now()
    const during = Array.from({ length: 3 }, () => transport.publish(message('order.placed')))
    const results = await Promise.allSettled(during)
    const elapsed = performance.now() - started
    for (const result of results) {
      expect(result.status).toBe('rejected')
      expect((result as PromiseRejectedResult).reason).toBeInstanceOf(PublishError)
    }
    expect(elapsed).toBeGreaterThanOrEqual(290)
    expect(elapsed).toBeLessThan(2000)

    // Once Redis is reachable again (ioredis reconnects with back-off), publishing again succeeds.
    proxy.restore()
    const back = message('order.placed')
    const deadline = performance.now() + 8000
    for (;;) {
      const outcome = await transport.publish(back).then(
        () => 'accepted',
        (error: unknown) => error,
      )
      if (outcome === 'accepted') break
      expect(outcome).toBeInstanceOf(PublishError)
      expect(performance.now()).toBeLessThan(deadline)
    }
  })
})
