import { memoryIdempotencyStore } from '@tidings/core'
import { describe, expect, it } from 'vitest'
import type { ConformanceHarness, Received } from '../harness.js'

/** G15: the idempotency helper skips event ids a group already handled. */
export function idempotencySuite(h: ConformanceHarness): void {
  describe('idempotency (G15)', () => {
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
  })
}
