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

    it('closes promptly after a listener held all of a high concurrency', async () => {
      // Adapters often run several receivers per listener; every one of them must wake when a
      // slot frees or the listener closes, whichever comes first.
      const concurrency = 40
      const log: Received[] = []
      let release!: () => void
      const gate = new Promise<void>((resolve) => {
        release = resolve
      })
      const bus = h.bus()
      bus.listen(
        'report.compiled',
        h.recorder(log, 'bus', () => gate),
        { name: 'reports', concurrency },
      )
      await bus.start()
      const publisher = h.bus({ service: 'reporting' })
      await Promise.all(
        Array.from({ length: concurrency + 10 }, (_, i) => publisher.publish('report.compiled', { i })),
      )
      await h.waitForCount(log, concurrency, 'deliveries filling every slot')
      await sleep(200) // let every receiver find no free slot
      release()
      await h.waitForCount(log, concurrency + 10, 'deliveries after the slots freed')
      const closed = await Promise.race([bus.close().then(() => 'closed'), sleep(8000).then(() => 'hung')])
      expect(closed).toBe('closed')
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

    it('gives deliveries no handler started back to the group at close, without waiting for ackTimeoutMs', async () => {
      const first: Received[] = []
      const bus = h.bus()
      bus.listen(
        'invoice.rendered',
        h.recorder(first, 'first', () => sleep(100)),
        { name: 'renderer', concurrency: 1 },
      )
      await bus.start()
      const publisher = h.bus({ service: 'billing' })
      const sent = []
      for (let n = 0; n < 6; n += 1) sent.push(await publisher.publish('invoice.rendered', { n }))
      await h.waitForCount(first, 1, 'deliveries before close')
      await bus.close() // default ackTimeoutMs (60 s): only a release brings the rest back in time
      const handledFirst = new Set(first.map((entry) => entry.event.id))
      const rest: Received[] = []
      const next = h.bus()
      next.listen('invoice.rendered', h.recorder(rest, 'next'), { name: 'renderer' })
      await next.start()
      await h.waitForCount(rest, sent.length - handledFirst.size, 'deliveries after close', 8000)
      const all = new Set([...handledFirst, ...rest.map((entry) => entry.event.id)])
      expect([...all].sort()).toEqual(sent.map((event) => event.id).sort())
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
