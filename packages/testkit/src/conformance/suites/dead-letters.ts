import { fixed } from '@tidings/core'
import { describe, expect, it } from 'vitest'
import { sleep } from '../../wait.js'
import type { ConformanceHarness, Received } from '../harness.js'
import { waitForDeadLetters } from './retries.js'

/** G5, G13: dead letters keep the event unchanged with every failed attempt, and can be replayed. */
export function deadLettersSuite(h: ConformanceHarness): void {
  describe('dead letters (G5, G13)', () => {
    it('dead-letters an exhausted event unchanged, with the history of every attempt', async () => {
      const bus = h.bus()
      bus.listen(
        'payment.refunded',
        (_event, ctx) => {
          throw new Error(`gateway timeout on attempt ${ctx.attempt}`)
        },
        { name: 'refunds', retry: { maxAttempts: 3, backoff: fixed(20) } },
      )
      await bus.start()
      const payload = { refundId: 'r-9', amount: 12.5, lines: [{ sku: 'a', qty: 2 }], note: 'ünïcödé ✓' }
      const sent = await bus.publish('payment.refunded', payload, { key: 'r-9' })
      const dlq = bus.deadLetters('conformance-refunds')
      await waitForDeadLetters(dlq, 1)
      const [letter] = await dlq.list({ limit: 10 })
      expect(letter!.id).toBe(sent.id)
      expect(letter!.group).toBe('conformance-refunds')
      expect(letter!.event).toMatchObject({
        id: sent.id,
        type: 'payment.refunded',
        data: payload,
        key: 'r-9',
      })
      expect(letter!.reason).toMatch(/exhausted/)
      // Where a retry redelivers the same message (declared), only the final failure can be recorded.
      const expected = h.capabilities.retryCarriesHistory ? [1, 2, 3] : [3]
      expect(letter!.history.map((failure) => failure.attempt)).toEqual(expected)
      expect(letter!.history.map((failure) => failure.error.message)).toEqual(
        expected.map((attempt) => `gateway timeout on attempt ${attempt}`),
      )
      for (const failure of letter!.history) {
        expect(failure.error.name).toBe('Error')
        expect(failure.error.stack).toContain('gateway timeout')
        expect(Number.isNaN(Date.parse(failure.at))).toBe(false)
      }
      expect(Number.isNaN(Date.parse(letter!.deadLetteredAt))).toBe(false)
    })

    it('lists, counts, replays and purges dead letters; a replay is a new attempt chain with the same id', async () => {
      const log: Received[] = []
      let healthy = false
      const bus = h.bus()
      bus.listen(
        'label.printed',
        h.recorder(log, 'bus', () => {
          if (!healthy) throw new Error('printer offline')
        }),
        { name: 'labels', retry: false },
      )
      await bus.start()
      const sent = []
      for (const n of [1, 2, 3]) sent.push(await bus.publish('label.printed', { n }))
      const dlq = bus.deadLetters('conformance-labels')
      await waitForDeadLetters(dlq, 3)
      expect(await dlq.count()).toBe(3)
      const firstTwo = await dlq.list({ limit: 2 })
      expect(firstTwo.map((letter) => letter.id).sort()).toEqual([sent[0]!.id, sent[1]!.id].sort())
      expect(await dlq.count()).toBe(3) // listing removes nothing

      healthy = true
      expect(await dlq.replay([sent[1]!.id])).toBe(1)
      await h.waitForCount(log, 4, 'deliveries')
      const replayed = log[3]!
      expect(replayed.event.id).toBe(sent[1]!.id)
      expect(replayed.attempt).toBe(1)
      expect(await dlq.count()).toBe(2)

      expect(await dlq.purge()).toBe(2)
      expect(await dlq.count()).toBe(0)
      await sleep(100)
      expect(log).toHaveLength(4)
    })

    it('replays every dead letter with replay("all")', async () => {
      const log: Received[] = []
      let healthy = false
      const bus = h.bus()
      bus.listen(
        'sms.sent',
        h.recorder(log, 'bus', () => {
          if (!healthy) throw new Error('carrier down')
        }),
        { name: 'sms', retry: false },
      )
      await bus.start()
      for (const n of [1, 2]) await bus.publish('sms.sent', { n })
      const dlq = bus.deadLetters('conformance-sms')
      await waitForDeadLetters(dlq, 2)
      healthy = true
      expect(await dlq.replay('all')).toBe(2)
      await h.waitForCount(log, 4, 'deliveries')
      expect(await dlq.count()).toBe(0)
    })

    it('sends an undecodable message to the dead-letter queue with a DecodeError and keeps consuming', async () => {
      const log: Received[] = []
      const bus = h.bus()
      bus.listen('raw.arrived', h.recorder(log), { name: 'raw' })
      await bus.start()
      await h.injectRaw('raw.arrived', 'this is { not json')
      await h.injectRaw(
        'raw.arrived',
        JSON.stringify({ specversion: '1.0', data: { missing: 'id and type' } }),
      )
      const dlq = bus.deadLetters('conformance-raw')
      await waitForDeadLetters(dlq, 2)
      const letters = await dlq.list()
      expect(letters.map((letter) => letter.history[0]!.error.name)).toEqual(['DecodeError', 'DecodeError'])
      expect(letters.map((letter) => letter.body.toString())).toContain('this is { not json')
      expect(letters.every((letter) => letter.event === undefined && letter.id.length > 0)).toBe(true)
      expect(letters[0]!.reason).toMatch(/decode/)
      await bus.publish('raw.arrived', { fine: true })
      await h.waitForCount(log, 1, 'deliveries after bad input')
      expect(log[0]!.event.data).toEqual({ fine: true })
    })

    it('handles a foreign CloudEvent and never lets "__proto__" reach a prototype', async () => {
      const log: Received[] = []
      const bus = h.bus()
      bus.listen('raw.arrived', h.recorder(log), { name: 'raw' })
      await bus.start()
      const foreign =
        '{"specversion":"1.0","id":"ext-1","type":"raw.arrived","source":"/other","data":{"ok":1,"__proto__":{"polluted":true}},"__proto__":{"polluted":true}}'
      await h.injectRaw('raw.arrived', foreign)
      await h.waitForCount(log, 1, 'deliveries')
      const { event } = log[0]!
      expect(event.id).toBe('ext-1')
      expect((event.data as Record<string, unknown>).ok).toBe(1)
      expect((event.data as Record<string, unknown>).polluted).toBeUndefined()
      expect(({} as Record<string, unknown>).polluted).toBeUndefined()
      expect(Object.getPrototypeOf(event.data)).toBe(Object.prototype)
    })
  })
}
