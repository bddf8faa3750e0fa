import { describe, expect, it } from 'vitest'
import type { ConformanceHarness, Received } from '../harness.js'
import { needs } from '../skips.js'

/** G14: ordering by key, where the broker can. */
export function orderingSuite(h: ConformanceHarness): void {
  describe('ordering by key (G14)', () => {
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
  })
}
