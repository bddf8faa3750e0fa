import { describe, expect, it } from 'vitest'
import { sleep, waitUntil } from '../../wait.js'
import type { ConformanceHarness, Received } from '../harness.js'
import { needs } from '../skips.js'

/** G7: an event held by a process that dies or stalls goes to another; a slow but live one keeps it. */
export function crashRecoverySuite(h: ConformanceHarness): void {
  const slack = () => h.hooks.crashRecoverySlackMs ?? 2000
  const hangs = () => new Promise<void>(() => {})

  describe('crash recovery (G7)', () => {
    it.skipIf(!h.capabilities.crashRecovery)(
      `redelivers to another process of the group when one dies mid-handler${needs(h, 'crashRecovery')}`,
      async () => {
        const ackTimeoutMs = 300
        const held: Received[] = []
        const dying = h.bus({ drainTimeoutMs: 0 })
        dying.listen('payment.captured', h.recorder(held, 'dying', hangs), { name: 'ledger', ackTimeoutMs })
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
        await h.waitForCount(survivor, 1, 'redeliveries', ackTimeoutMs + slack() + 1000)
        expect(survivor[0]!.event.id).toBe(sent.id)
        expect(survivor[0]!.redelivered).toBe(true)
        expect(performance.now() - started).toBeLessThan(ackTimeoutMs + slack())
      },
    )

    it.skipIf(!h.capabilities.crashRecovery)(
      `gives an event held by a live but stalled process to another process after ackTimeoutMs${needs(h, 'crashRecovery')}`,
      async () => {
        const ackTimeoutMs = 300
        const held: Received[] = []
        // The process stays up and connected; only its lease renewals stop, as when its event loop
        // is blocked or it is paused: to the broker it is stalled.
        const stalled = h.bus({ drainTimeoutMs: 0 }, { suppressLeaseRenewal: true })
        stalled.listen('payment.captured', h.recorder(held, 'stalled', hangs), {
          name: 'ledger',
          ackTimeoutMs,
          timeoutMs: Number.POSITIVE_INFINITY,
          concurrency: 1, // its one slot stays busy with the stalled handler, as in a real stall
        })
        await stalled.start()
        const publisher = h.bus({ service: 'payment' })
        const sent = await publisher.publish('payment.captured', { amount: 5 })
        await h.waitForCount(held, 1, 'deliveries to the stalled process')
        const stalledAt = performance.now()

        const survivor: Received[] = []
        const healthy = h.bus()
        healthy.listen('payment.captured', h.recorder(survivor, 'healthy'), { name: 'ledger', ackTimeoutMs })
        await healthy.start()
        await h.waitForCount(survivor, 1, 'takeovers', ackTimeoutMs + slack() + 1000)
        expect(survivor[0]!.event.id).toBe(sent.id)
        expect(survivor[0]!.redelivered).toBe(true)
        expect(performance.now() - stalledAt).toBeGreaterThanOrEqual(ackTimeoutMs - 20)
        expect(performance.now() - stalledAt).toBeLessThan(ackTimeoutMs + slack())
      },
    )

    it.skipIf(!h.capabilities.crashRecovery)(
      `keeps an event whose live handler runs past ackTimeoutMs: core renews its lease${needs(h, 'crashRecovery')}`,
      async () => {
        const ackTimeoutMs = 300
        const slow: Received[] = []
        const other: Received[] = []
        let finished = 0
        const worker = h.bus()
        worker.listen(
          'report.requested',
          h.recorder(slow, 'slow', async () => {
            await new Promise((resolve) => setTimeout(resolve, ackTimeoutMs * 4))
            finished += 1
          }),
          { name: 'reports', ackTimeoutMs, timeoutMs: ackTimeoutMs * 10 },
        )
        await worker.start()
        const publisher = h.bus({ service: 'reporting' })
        await publisher.publish('report.requested', {})
        await h.waitForCount(slow, 1, 'deliveries to the slow handler')
        // A second process of the group joins while the handler runs: it must never get the event.
        const peer = h.bus()
        peer.listen('report.requested', h.recorder(other, 'peer'), { name: 'reports', ackTimeoutMs })
        await peer.start()
        await waitUntil(() => finished === 1, {
          timeoutMs: ackTimeoutMs * 10,
          what: 'the slow handler to finish',
        })
        await sleep(ackTimeoutMs + slack() / 2) // absence: no takeover, no redelivery after the ack
        expect(other).toHaveLength(0)
        expect(slow).toHaveLength(1)
      },
    )
  })
}
