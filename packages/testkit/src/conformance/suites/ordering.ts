import { memoryIdempotencyStore } from '@tidings/core'
import { describe, expect, it } from 'vitest'
import { sleep } from '../../wait.js'
import type { ConformanceHarness, Received } from '../harness.js'
import { needs } from '../skips.js'

/** G14 ordering by key, G15 idempotency, §8 lifecycle events. */
export function orderingSuite(h: ConformanceHarness): void {
  describe('ordering, idempotency and lifecycle (G14, G15, §8)', () => {
    it.skipIf(!h.capabilities.orderingByKey)(
      `delivers events with one key in publish order to a concurrency-1 listener${needs(h, 'orderingByKey')}`,
      async () => {
        const log: Received[] = []
        const bus = h.bus()
        bus.listen('account.changed', h.recorder(log), { name: 'projection', concurrency: 1 })
        await bus.start()
        for (let n = 0; n < 25; n += 1) await bus.publish('account.changed', { n }, { key: 'account-1' })
        await h.waitForCount(log, 25, 'deliveries')
        expect(log.map((entry) => (entry.event.data as { n: number }).n)).toEqual(
          Array.from({ length: 25 }, (_, n) => n),
        )
      },
    )

    it('skips an event id the group already handled when an idempotency store is set', async () => {
      const log: Received[] = []
      const skipped: string[] = []
      const bus = h.bus()
      bus.listen('charge.requested', h.recorder(log), {
        name: 'charger',
        idempotency: { store: memoryIdempotencyStore() },
      })
      bus.on('duplicate-skipped', ({ event }) => skipped.push(event.id))
      await bus.start()
      await bus.publish('charge.requested', { cents: 100 }, { id: 'charge-1' })
      await h.waitForCount(log, 1, 'deliveries')
      await bus.publish('charge.requested', { cents: 100 }, { id: 'charge-1' })
      await bus.publish('charge.requested', { cents: 200 }, { id: 'charge-2' })
      await h.waitForCount(log, 2, 'deliveries')
      await h.waitForCount(skipped, 1, 'skipped duplicates')
      expect(log.map((entry) => entry.event.id)).toEqual(['charge-1', 'charge-2'])
    })

    it('emits lifecycle events for publish, receive, handle, retry and dead letter', async () => {
      const seen: string[] = []
      const bus = h.bus()
      for (const name of [
        'published',
        'received',
        'handled',
        'failed',
        'retry-scheduled',
        'dead-lettered',
      ] as const) {
        bus.on(name, () => seen.push(name))
      }
      bus.listen(
        'lifecycle.checked',
        (event) => {
          if ((event.data as { fail: boolean }).fail) throw new Error('no')
        },
        { name: 'observer', retry: { maxAttempts: 2, backoff: () => 10 } },
      )
      await bus.start()
      await bus.publish('lifecycle.checked', { fail: false })
      await bus.publish('lifecycle.checked', { fail: true })
      const deadline = Date.now() + 5000
      while (!seen.includes('dead-lettered') && Date.now() < deadline) await sleep(10)
      expect(new Set(seen)).toEqual(
        new Set(['published', 'received', 'handled', 'failed', 'retry-scheduled', 'dead-lettered']),
      )
    })
  })
}
