import { describe, expect, it } from 'vitest'
import { sleep } from '../../wait.js'
import type { ConformanceHarness, Received } from '../harness.js'
import { needs } from '../skips.js'

/** G1, G2, G3, G6, G7: who receives what, and that nothing is lost. */
export function deliverySuite(h: ConformanceHarness): void {
  describe('delivery (G1, G2, G3, G6, G7)', () => {
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
      const slow = () => sleep(15)
      const first = h.bus()
      const second = h.bus()
      first.listen('job.queued', h.recorder(log, 'first', slow), { name: 'worker', concurrency: 2 })
      second.listen('job.queued', h.recorder(log, 'second', slow), { name: 'worker', concurrency: 2 })
      await Promise.all([first.start(), second.start()])
      const publisher = h.bus({ service: 'producer' })
      const ids = await Promise.all(
        Array.from({ length: 24 }, (_, i) => publisher.publish('job.queued', { i }).then((e) => e.id)),
      )
      await h.waitForCount(log, 24, 'deliveries')
      await sleep(150)
      expect(log.map((entry) => entry.event.id).sort()).toEqual([...ids].sort())
      expect(log.filter((entry) => entry.bus === 'first').length).toBeGreaterThan(0)
      expect(log.filter((entry) => entry.bus === 'second').length).toBeGreaterThan(0)
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

    it.skipIf(!h.capabilities.crashRecovery)(
      `redelivers to another process of the group when one dies mid-handler${needs(h, 'crashRecovery')}`,
      async () => {
        const ackTimeoutMs = 300
        const held: Received[] = []
        const dying = h.bus({ drainTimeoutMs: 0 })
        dying.listen(
          'payment.captured',
          h.recorder(held, 'dying', () => new Promise(() => {})),
          {
            name: 'ledger',
            ackTimeoutMs,
          },
        )
        await dying.start()
        const publisher = h.bus({ service: 'payment' })
        const sent = await publisher.publish('payment.captured', { amount: 5 })
        await h.waitForCount(held, 1, 'deliveries to the dying process')

        const survivor: Received[] = []
        const healthy = h.bus()
        healthy.listen('payment.captured', h.recorder(survivor, 'healthy'), { name: 'ledger', ackTimeoutMs })
        await healthy.start()
        await dying.close() // drainTimeoutMs 0: the handler is abandoned, never settled, like a killed process
        const started = performance.now()
        await h.waitForCount(
          survivor,
          1,
          'redeliveries',
          ackTimeoutMs + (h.hooks.crashRecoverySlackMs ?? 2000) + 1000,
        )
        expect(survivor[0]!.event.id).toBe(sent.id)
        expect(survivor[0]!.redelivered).toBe(true)
        expect(performance.now() - started).toBeLessThan(
          ackTimeoutMs + (h.hooks.crashRecoverySlackMs ?? 2000),
        )
      },
    )
  })
}
