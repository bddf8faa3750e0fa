import { EncodedMessage } from '@tidings/core'
import { describe, expect, it } from 'vitest'
import { namespaceKeys, type RedisStreamsTransport } from '../src/index.js'
import { message, record, subscribeOptions, useRedisTestNamespace, waitFor } from './support.js'

describe('redis-streams retention', () => {
  const redis = useRedisTestNamespace()

  it('100,000 events published and consumed leave the stream trimmed and the pending lists empty', async () => {
    const transport = await redis.open({ trimIntervalMs: 200 })
    const keys = namespaceKeys(redis.namespace)
    const count = { orders: 0, all: 0 }
    await record(
      transport,
      subscribeOptions('orders-project', ['order.*'], { concurrency: 256 }),
      (delivery) => {
        count.orders += 1
        return delivery.ack()
      },
    )
    await record(transport, subscribeOptions('audit-all', ['#'], { concurrency: 256 }), (delivery) => {
      count.all += 1
      return delivery.ack()
    })
    const total = 100_000
    const template = message('order.placed', { n: 0 })
    for (let i = 0; i < total; i += 2000) {
      const batch: Promise<void>[] = []
      for (let j = i; j < Math.min(total, i + 2000); j += 1) {
        // Every tenth event matches only the catch-all group: those are acked without a handler.
        const type = j % 10 === 0 ? 'invoice.sent' : 'order.placed'
        batch.push(transport.publish(new EncodedMessage(`e${j}`, type, undefined, template.text)))
      }
      await Promise.all(batch)
    }
    await waitFor(() => count.all === total && count.orders === total - total / 10, 'every delivery', 60_000)
    const pending = async (stream: string, group: string) =>
      ((await redis.raw.xpending(stream, group)) as [number])[0]
    await (transport as RedisStreamsTransport).trimNow()
    expect(await pending(keys.events, 'orders-project')).toBe(0)
    expect(await pending(keys.events, 'audit-all')).toBe(0)
    // Approximate trimming keeps at most one radix-tree node (100 entries by default) of acked entries.
    expect(await redis.raw.xlen(keys.events)).toBeLessThanOrEqual(200)
  }, 90_000)

  it('never trims entries a group has not acknowledged yet', async () => {
    const transport = await redis.open({ trimIntervalMs: 0 })
    const keys = namespaceKeys(redis.namespace)
    const slowReleased: (() => void)[] = []
    const releaseAll = (): void => {
      for (const release of slowReleased.splice(0)) release()
    }
    await record(transport, subscribeOptions('fast', ['#'], { concurrency: 64 }))
    const slow = await record(transport, subscribeOptions('slow', ['#'], { concurrency: 1 }), (delivery) =>
      new Promise<void>((resolve) => slowReleased.push(resolve)).then(() => delivery.ack()),
    )
    for (let i = 0; i < 1000; i += 1) await transport.publish(message('tick.tocked', { i }))
    await waitFor(() => slow.log.length === 1, 'slow group started')
    await (transport as RedisStreamsTransport).trimNow()
    // The slow group holds its first entry and has read nothing else: everything stays.
    expect(await redis.raw.xlen(keys.events)).toBe(1000)
    // Let it go through everything: then trimming can remove them.
    const drain = setInterval(() => releaseAll(), 1)
    await waitFor(() => slow.log.length === 1000, 'slow group done', 20_000)
    clearInterval(drain)
    releaseAll()
    await new Promise((resolve) => setTimeout(resolve, 50))
    await (transport as RedisStreamsTransport).trimNow()
    expect(await redis.raw.xlen(keys.events)).toBeLessThanOrEqual(200)
  })
})
