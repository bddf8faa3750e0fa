import { describe, expect, it } from 'vitest'
import { sleep, waitUntil } from '../../wait.js'
import type { ConformanceHarness, Received } from '../harness.js'
import { needs } from '../skips.js'

/** G1, G2, G3, G6: who receives what, and that nothing is lost. */
export function deliverySuite(h: ConformanceHarness): void {
  describe('delivery (G1, G2, G3, G6)', () => {
    it('delivers one published event to its listener, with the envelope intact', async () => {
      const log: Received[] = []
      const bus = h.bus()
      bus.listen('order.placed', h.recorder(log), { name: 'audit' })
      await bus.start()
      const published = await bus.publish(
        'order.placed',
        { orderId: 'o-1', value: 1000 },
        { key: 'o-1', headers: { tenant: 'acme' } },
      )
      await h.waitForCount(log, 1, 'deliveries')
      const { event, attempt } = log[0]!
      expect(event.id).toBe(published.id)
      expect(event.type).toBe('order.placed')
      expect(event.source).toBe('/conformance')
      expect(event.data).toEqual({ orderId: 'o-1', value: 1000 })
      expect(event.key).toBe('o-1')
      expect(event.headers).toEqual({ tenant: 'acme' })
      expect(attempt).toBe(1)
    })

    it('fans one event out to every consumer group whose pattern matches', async () => {
      const shipping: Received[] = []
      const billing: Received[] = []
      const bus = h.bus()
      bus.listen('order.placed', h.recorder(shipping), { name: 'shipping' })
      bus.listen('order.*', h.recorder(billing), { name: 'billing' })
      await bus.start()
      await bus.publish('order.placed', { n: 1 })
      await h.waitForCount(shipping, 1, 'shipping deliveries')
      await h.waitForCount(billing, 1, 'billing deliveries')
      await sleep(100)
      expect(shipping).toHaveLength(1)
      expect(billing).toHaveLength(1)
    })

    it('lets processes of one group compete: each event is handled once, by one of them', async () => {
      const log: Received[] = []
      const startedBy = new Set<string>()
      // Each process holds its first events until the other has started one too (or 5 s pass):
      // a process that took everything would show as a timeout, never as a lucky pass.
      const untilBothWork = (name: string) => async () => {
        startedBy.add(name)
        await waitUntil(() => startedBy.size === 2, { timeoutMs: 5000, what: 'both processes working' })
      }
      const first = h.bus()
      const second = h.bus()
      first.listen('job.queued', h.recorder(log, 'first', untilBothWork('first')), {
        name: 'worker',
        concurrency: 2,
      })
      second.listen('job.queued', h.recorder(log, 'second', untilBothWork('second')), {
        name: 'worker',
        concurrency: 2,
      })
      await Promise.all([first.start(), second.start()])
      const publisher = h.bus({ service: 'producer' })
      const ids = await Promise.all(
        Array.from({ length: 24 }, (_, i) => publisher.publish('job.queued', { i }).then((e) => e.id)),
      )
      await h.waitForCount(log, 24, 'deliveries')
      await sleep(150) // absence: no event is handled a second time
      expect(log.map((entry) => entry.event.id).sort()).toEqual([...ids].sort())
      expect(new Set(log.map((entry) => entry.bus))).toEqual(new Set(['first', 'second']))
    })

    it('delivers to a listener added to a running bus every event published after its listen() resolved', async () => {
      const early: Received[] = []
      const late: Received[] = []
      const bus = h.bus()
      bus.listen('order.placed', h.recorder(early), { name: 'early' })
      await bus.start()
      await bus.publish('order.placed', { n: 0 })
      await h.waitForCount(early, 1, 'deliveries before the late listener')
      await bus.listen('order.*', h.recorder(late), { name: 'late' })
      const sent = []
      for (let n = 1; n <= 5; n += 1) sent.push(await bus.publish('order.placed', { n }))
      await h.waitForCount(late, 5, 'deliveries to the late listener')
      expect(late.map((entry) => entry.event.id).sort()).toEqual(sent.map((event) => event.id).sort())
    })

    it('matches "*" to exactly one word and "#" to zero or more words', async () => {
      const star: Received[] = []
      const hashTail: Received[] = []
      const hashMiddle: Received[] = []
      const everything: Received[] = []
      const bus = h.bus()
      bus.listen('payment.*', h.recorder(star), { name: 'star' })
      bus.listen('payment.#', h.recorder(hashTail), { name: 'hash-tail' })
      bus.listen('payment.#.done', h.recorder(hashMiddle), { name: 'hash-middle' })
      bus.listen('#', h.recorder(everything), { name: 'everything' })
      await bus.start()
      const names = ['payment', 'payment.done', 'payment.purchase.done', 'payments.done', 'shipping.done']
      for (const name of names) await bus.publish(name, { name })
      await h.waitForCount(everything, names.length, '"#" deliveries')
      await sleep(200)
      const typesOf = (log: Received[]) => log.map((entry) => entry.event.type).sort()
      expect(typesOf(star)).toEqual(['payment.done'])
      expect(typesOf(hashTail)).toEqual(['payment', 'payment.done', 'payment.purchase.done'])
      expect(typesOf(hashMiddle)).toEqual(['payment.done', 'payment.purchase.done'])
      expect(typesOf(everything)).toEqual([...names].sort())
    })

    it('accepts a publish that no group listens to', async () => {
      const bus = h.bus()
      await expect(bus.publish('nobody.listens', { ok: true })).resolves.toMatchObject({
        type: 'nobody.listens',
      })
    })

    it.skipIf(!h.capabilities.durableGroups)(
      `keeps events for a durable group while all its processes are down${needs(h, 'durableGroups')}`,
      async () => {
        const before = h.bus()
        before.listen('invoice.issued', async () => {}, { name: 'mailer' })
        await before.start()
        await before.close()
        const publisher = h.bus({ service: 'billing' })
        const sent = await publisher.publish('invoice.issued', { invoice: 7 })
        const log: Received[] = []
        const after = h.bus()
        after.listen('invoice.issued', h.recorder(log), { name: 'mailer' })
        await after.start()
        await h.waitForCount(log, 1, 'deliveries after restart')
        expect(log[0]!.event.id).toBe(sent.id)
      },
    )

    it.skipIf(!h.capabilities.ephemeralListeners)(
      `removes an ephemeral (durable: false) listener's group when its bus closes${needs(h, 'ephemeralListeners')}`,
      async () => {
        const first: Received[] = []
        const tail = h.bus()
        tail.listen('#', h.recorder(first), { name: 'tail', durable: false })
        await tail.start()
        const publisher = h.bus({ service: 'producer' })
        await publisher.publish('metric.sampled', { n: 1 })
        await h.waitForCount(first, 1, 'live deliveries')
        await tail.close()
        await publisher.publish('metric.sampled', { n: 2 })
        const second: Received[] = []
        const again = h.bus()
        again.listen('#', h.recorder(second), { name: 'tail', durable: false })
        await again.start()
        await publisher.publish('metric.sampled', { n: 3 })
        await h.waitForCount(second, 1, 'live deliveries')
        await sleep(200)
        expect(second.map((entry) => entry.event.data)).toEqual([{ n: 3 }])
      },
    )
  })
}
