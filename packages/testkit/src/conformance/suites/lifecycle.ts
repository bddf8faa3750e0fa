import { TransportClosedError } from '@tidings/core'
import { describe, expect, it } from 'vitest'
import { sleep } from '../../wait.js'
import type { ConformanceHarness, Received } from '../harness.js'

/** G9, G10: bounded work and graceful close. */
export function lifecycleSuite(h: ConformanceHarness): void {
  describe('concurrency and close (G9, G10)', () => {
    it('never runs more than `concurrency` handlers at once in one process', async () => {
      let running = 0
      let peak = 0
      const log: Received[] = []
      const bus = h.bus()
      bus.listen(
        'image.resized',
        h.recorder(log, 'bus', async () => {
          running += 1
          peak = Math.max(peak, running)
          await sleep(15)
          running -= 1
        }),
        { name: 'thumbnails', concurrency: 3 },
      )
      await bus.start()
      await Promise.all(Array.from({ length: 30 }, (_, i) => bus.publish('image.resized', { i })))
      await h.waitForCount(log, 30, 'deliveries')
      expect(peak).toBeLessThanOrEqual(3)
      expect(peak).toBeGreaterThanOrEqual(2)
    })

    it('drains in-flight handlers on close and acknowledges them exactly once', async () => {
      const log: Received[] = []
      let finished = 0
      const bus = h.bus()
      bus.listen(
        'backup.requested',
        h.recorder(log, 'bus', async () => {
          await sleep(300)
          finished += 1
        }),
        { name: 'backup', ackTimeoutMs: 300 },
      )
      await bus.start()
      await bus.publish('backup.requested', {})
      await h.waitForCount(log, 1, 'deliveries')
      await bus.close()
      expect(finished).toBe(1)

      const after: Received[] = []
      const next = h.bus()
      next.listen('backup.requested', h.recorder(after), { name: 'backup', ackTimeoutMs: 300 })
      await next.start()
      await sleep(900)
      expect(after).toHaveLength(0)
    })

    it('rejects publish after close with TransportClosedError', async () => {
      const bus = h.bus()
      await bus.publish('any.thing', {})
      await bus.close()
      await expect(bus.publish('any.thing', {})).rejects.toBeInstanceOf(TransportClosedError)
      expect(() => bus.listen('any.thing', async () => {}, { name: 'late' })).toThrow(TransportClosedError)
    })
  })
}
