import { type Event, fixed, GroupNotFoundError, type GroupStatus, NonRetryable } from '@tidings/core'
import { describe, expect, it } from 'vitest'
import { sleep, waitUntil } from '../../wait.js'
import type { ConformanceHarness, Received } from '../harness.js'
import { waitForDeadLetters } from './retries.js'

/**
 * What operators and tools rely on: sending one event again to one group (journal replay), and the
 * broker's own counters per group (`tidings groups`).
 */
export function operationsSuite(h: ConformanceHarness): void {
  describe('operating groups', () => {
    it('sends an event again to one group only, as a new attempt chain with the same id', async () => {
      const audit: Received[] = []
      const mailer: Received[] = []
      const bus = h.bus()
      bus.listen('invoice.sent', h.recorder(audit), { name: 'audit' })
      bus.listen('invoice.sent', h.recorder(mailer), { name: 'mailer' })
      await bus.start()
      const sent = await bus.publish('invoice.sent', { invoice: 'i-7' }, { key: 'i-7' })
      await h.waitForCount(audit, 1, 'deliveries to audit')
      await h.waitForCount(mailer, 1, 'deliveries to mailer')

      await bus.sendToGroup('conformance-audit', audit[0]!.event)
      await h.waitForCount(audit, 2, 'deliveries to audit')
      expect(audit[1]!.event).toEqual(sent)
      expect(audit[1]!.attempt).toBe(1)
      await sleep(300) // absence: the other group must not see it
      expect(mailer).toHaveLength(1)
    })

    it('sends to one group an event that group dead-lettered, without touching its dead letters', async () => {
      const log: Received[] = []
      let healthy = false
      const bus = h.bus()
      bus.listen(
        'refund.issued',
        h.recorder(log, 'bus', () => {
          if (!healthy) throw new NonRetryable('bank down')
        }),
        { name: 'refunder' },
      )
      await bus.start()
      const sent = await bus.publish('refund.issued', { refund: 'r-1' })
      const dlq = bus.deadLetters('conformance-refunder')
      await waitForDeadLetters(dlq, 1)
      healthy = true
      await bus.sendToGroup('conformance-refunder', sent)
      await h.waitForCount(log, 2, 'attempts')
      expect(log[1]!.event.id).toBe(sent.id)
      expect(log[1]!.attempt).toBe(1)
      expect(await dlq.count()).toBe(1)
    })

    it('refuses to send to a group the namespace does not have, naming it', async () => {
      const bus = h.bus()
      await bus.start()
      const sent = await bus.publish('invoice.voided', { invoice: 'i-8' })
      const refused = bus.sendToGroup('conformance-nobody', sent)
      await expect(refused).rejects.toBeInstanceOf(GroupNotFoundError)
      await expect(refused).rejects.toThrow(/conformance-nobody/)
    })

    it("reports a stopped group's backlog, waiting retries and dead letters from the broker", async () => {
      const first = h.bus()
      const retryScheduled: Event[] = []
      first.on('retry-scheduled', ({ event }) => retryScheduled.push(event))
      first.listen(
        'ledger.*',
        (event) => {
          const { kind } = event.data as { kind: string }
          if (kind === 'dead') throw new NonRetryable('unknown account')
          if (kind === 'retry') throw new Error('ledger locked')
        },
        // Long enough to stay waiting for the whole test, within every broker's maxDelayMs.
        { name: 'ledger', retry: { maxAttempts: 3, backoff: fixed(60_000) } },
      )
      await first.start()
      await first.publish('ledger.posted', { kind: 'dead' })
      await first.publish('ledger.posted', { kind: 'retry' })
      await waitForDeadLetters(first.deadLetters('conformance-ledger'), 1)
      await waitUntil(() => retryScheduled.length === 1, { what: 'a scheduled retry' })
      await first.close()

      const inspector = h.bus()
      for (const n of [1, 2, 3]) await inspector.publish('ledger.posted', { kind: 'ok', n })
      const known = h.capabilities.groupCounters
      const expected: GroupStatus = {
        group: 'conformance-ledger',
        pending: 3,
        inFlight: known.inFlight ? 0 : undefined,
        waitingRetries: known.waitingRetries ? 1 : undefined,
        deadLetters: 1,
        consumers: known.consumers ? 0 : undefined,
      }
      // Broker counters may trail a publish by a moment (quorum queues, stream lag).
      let groups: GroupStatus[] = []
      await waitUntil(
        async () => {
          groups = await inspector.inspectGroups()
          return groups.some((group) => group.group === expected.group && group.pending === 3)
        },
        { what: 'a backlog of 3', seen: () => JSON.stringify(groups) },
      )
      expect(groups.find((group) => group.group === expected.group)).toEqual(expected)
    })

    it('reports the deliveries a running process holds, and its consumers', async () => {
      let release: () => void = () => {}
      const held = new Promise<void>((resolve) => {
        release = resolve
      })
      const started: Received[] = []
      const bus = h.bus()
      bus.listen(
        'parcel.weighed',
        h.recorder(started, 'bus', () => held),
        { name: 'scale' },
      )
      bus.listen('parcel.lost', () => {}, { name: 'tracker' })
      await bus.start()
      await bus.publish('parcel.weighed', { parcel: 'p-1' })
      await h.waitForCount(started, 1, 'handler starts')
      const known = h.capabilities.groupCounters
      let groups: GroupStatus[] = []
      try {
        await waitUntil(
          async () => {
            groups = await bus.inspectGroups()
            const scale = groups.find((group) => group.group === 'conformance-scale')
            return scale !== undefined && (!known.inFlight || scale.inFlight === 1)
          },
          { what: 'the held delivery in flight', seen: () => JSON.stringify(groups) },
        )
      } finally {
        release()
      }
      expect(groups.map((group) => group.group)).toEqual(['conformance-scale', 'conformance-tracker'])
      expect(groups[0]).toEqual({
        group: 'conformance-scale',
        pending: 0,
        inFlight: known.inFlight ? 1 : undefined,
        waitingRetries: known.waitingRetries ? 0 : undefined,
        deadLetters: 0,
        consumers: known.consumers ? 1 : undefined,
      })
    })
  })
}
