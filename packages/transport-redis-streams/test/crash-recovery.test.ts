import { describe, expect, it } from 'vitest'
import { namespaceKeys } from '../src/keys.js'
import { message, record, sleep, subscribeOptions, useRedisTestNamespace, waitFor } from './support.js'

describe('redis-streams crash recovery and leases', () => {
  const redis = useRedisTestNamespace()

  const open = () => redis.open()

  it('a process closed mid-handler without ack: the other process of the group takes over after ackTimeoutMs, none lost', async () => {
    const ackTimeoutMs = 400
    const dying = await open()
    const healthy = await open()
    const held = await record(
      dying,
      subscribeOptions('ledger-post', ['payment.captured'], {
        ackTimeoutMs,
        concurrency: 5,
        consumerName: 'dying',
      }),
      () => new Promise(() => {}), // never settles, like a process killed mid-handler
    )
    const sent = Array.from({ length: 20 }, (_, i) => message('payment.captured', { i }))
    for (const m of sent.slice(0, 5)) await dying.publish(m)
    await waitFor(() => held.log.length === 5, 'five deliveries held by the dying process')

    const survivor = await record(
      healthy,
      subscribeOptions('ledger-post', ['payment.captured'], {
        ackTimeoutMs,
        concurrency: 5,
        consumerName: 'healthy',
      }),
    )
    for (const m of sent.slice(5)) await healthy.publish(m)
    await sleep(100)
    await dying.close()
    const closedAt = performance.now()
    await waitFor(
      () => new Set(survivor.log.map((r) => r.event.id)).size === 20,
      'all 20 at the survivor',
      5000,
    )
    const redelivered = survivor.log.filter((r) => r.delivery.redelivered)
    expect(new Set(redelivered.map((r) => r.event.id))).toEqual(new Set(held.log.map((r) => r.event.id)))
    expect(redelivered.every((r) => r.delivery.attempt === 2)).toBe(true)
    const firstTakeover = Math.min(...redelivered.map((r) => r.at))
    expect(firstTakeover - closedAt).toBeLessThan(ackTimeoutMs + 1500)
    await sleep(100)
    const pending = (await redis.raw.xpending(namespaceKeys(redis.namespace).events, 'ledger-post')) as [
      number,
    ]
    expect(pending[0]).toBe(0)
  })

  it('a slow but alive handler whose lease is renewed (as core does) keeps it and is not duplicated', async () => {
    const ackTimeoutMs = 200
    const a = await open()
    const b = await open()
    const options = (consumerName: string) =>
      subscribeOptions('video-encode', ['video.uploaded'], { ackTimeoutMs, consumerName, concurrency: 1 })
    const slow = await record(a, options('slow'), async (delivery) => {
      // Core renews the lease of every delivery it holds about every ackTimeoutMs / 3.
      const renewal = setInterval(() => void delivery.extendLease!(), ackTimeoutMs / 3)
      await sleep(ackTimeoutMs * 4)
      clearInterval(renewal)
      await delivery.ack()
    })
    await a.publish(message('video.uploaded'))
    await waitFor(() => slow.log.length === 1, 'the slow handler started')
    const other = await record(b, options('other'))
    await sleep(ackTimeoutMs * 5)
    expect(slow.log).toHaveLength(1)
    expect(other.log).toHaveLength(0)
  })

  it('extendLease() refreshes the idle time by hand', async () => {
    const transport = await open()
    const keys = namespaceKeys(redis.namespace)
    let extend: (() => Promise<void>) | undefined
    await record(
      transport,
      subscribeOptions('manual-lease', ['a.b'], { ackTimeoutMs: 60_000, consumerName: 'me' }),
      async (delivery) => {
        extend = () => delivery.extendLease!()
        await new Promise(() => {})
      },
    )
    await transport.publish(message('a.b'))
    await waitFor(() => extend !== undefined, 'delivery')
    await sleep(150)
    const idleBefore = (
      (await redis.raw.xpending(keys.events, 'manual-lease', '-', '+', 10)) as [string, string, number][]
    )[0]![2]
    expect(idleBefore).toBeGreaterThanOrEqual(140)
    await extend!()
    const after = (
      (await redis.raw.xpending(keys.events, 'manual-lease', '-', '+', 10)) as [
        string,
        string,
        number,
        number,
      ][]
    )[0]!
    expect(after[2]).toBeLessThan(50)
    expect(after[3]).toBe(1) // a lease refresh is not a delivery
  })

  it('a process restarted with the same consumer name takes its own pending entries back first', async () => {
    const first = await open()
    const options = subscribeOptions('search-index', ['doc.*'], {
      ackTimeoutMs: 60_000,
      consumerName: 'indexer-1',
    })
    const held = await record(first, options, () => new Promise(() => {}))
    const sent = [message('doc.created'), message('doc.updated')]
    for (const m of sent) await first.publish(m)
    await waitFor(() => held.log.length === 2, 'two held')
    await first.close()
    // ackTimeoutMs is a minute: only the own-pending recovery can bring them back quickly.
    const second = await open()
    const back = await record(second, options)
    await waitFor(() => back.log.length === 2, 'own pending entries back', 3000)
    expect(back.log.map((r) => r.event.id)).toEqual(sent.map((m) => m.id))
    expect(back.log.every((r) => r.delivery.redelivered && r.delivery.attempt === 2)).toBe(true)
  })
})
