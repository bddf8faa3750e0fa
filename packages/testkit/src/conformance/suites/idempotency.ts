import { encodeEnvelope, memoryIdempotencyStore } from '@tidings/core'
import { describe, expect, it } from 'vitest'
import { sleep } from '../../wait.js'
import type { ConformanceHarness, Received } from '../harness.js'

/**
 * The same event again, put on the wire raw: a broker that drops a republished event id at publish
 * (NATS' duplicate window) would hide a second `publish()`, and redeliveries are what G15 is about.
 */
function duplicate(h: ConformanceHarness, id: string, data: unknown): Promise<void> {
  return h.injectRaw(
    'charge.requested',
    encodeEnvelope({ type: 'charge.requested', data, source: '/conformance', id }).text,
  )
}

/** G15: the idempotency helper skips event ids a group already handled. */
export function idempotencySuite(h: ConformanceHarness): void {
  describe('idempotency (G15)', () => {
    it('runs a duplicate delivered while the first copy is still being handled only once', async () => {
      const log: Received[] = []
      const skipped: string[] = []
      let release: () => void = () => {}
      const bus = h.bus()
      bus.listen(
        'charge.requested',
        h.recorder(
          log,
          'bus',
          () =>
            new Promise<void>((resolve) => {
              release = resolve
            }),
        ),
        { name: 'charger', concurrency: 4, idempotency: { store: memoryIdempotencyStore() } },
      )
      bus.on('duplicate-skipped', ({ event }) => skipped.push(event.id))
      await bus.start()
      await bus.publish('charge.requested', { cents: 100 }, { id: 'charge-1' })
      await h.waitForCount(log, 1, 'deliveries')
      await duplicate(h, 'charge-1', { cents: 100 }) // while the first runs
      await h.waitForCount(skipped, 1, 'skipped duplicates')
      release()
      await sleep(100) // absence: the handler never ran a second time
      expect(log).toHaveLength(1)
    })

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
      await duplicate(h, 'charge-1', { cents: 100 })
      await bus.publish('charge.requested', { cents: 200 }, { id: 'charge-2' })
      await h.waitForCount(log, 2, 'deliveries')
      await h.waitForCount(skipped, 1, 'skipped duplicates')
      expect(log.map((entry) => entry.event.id)).toEqual(['charge-1', 'charge-2'])
    })
  })
}
