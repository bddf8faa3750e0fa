import { fixed, HandlerTimeoutError, NonRetryable, RetryLater } from '@tidings/core'
import { describe, expect, it } from 'vitest'
import { sleep } from '../../wait.js'
import type { ConformanceHarness, Received } from '../harness.js'

/** SPEC G4: no earlier than the delay, no later than delay + max(1 s, 10 %). */
function expectDelayWithinSpec(actualMs: number, delayMs: number): void {
  expect(actualMs).toBeGreaterThanOrEqual(delayMs - 2) // timer granularity
  expect(actualMs).toBeLessThanOrEqual(delayMs + Math.max(1000, delayMs * 0.1))
}

/** G4, G5 (policy side), G8: retries, delays, overrides, deadlines. */
export function retriesSuite(h: ConformanceHarness): void {
  describe('retries (G4, G8)', () => {
    it('retries a failing handler until it succeeds, counting attempts from 1', async () => {
      const log: Received[] = []
      const bus = h.bus()
      bus.listen(
        'stock.reserved',
        h.recorder(log, 'bus', (_event, ctx) => {
          if (ctx.attempt < 3) throw new Error(`flaky ${ctx.attempt}`)
        }),
        { name: 'reserver', retry: { maxAttempts: 5, backoff: fixed(20) } },
      )
      await bus.start()
      await bus.publish('stock.reserved', { sku: 'a' })
      await h.waitForCount(log, 3, 'attempts')
      await sleep(150)
      expect(log.map((entry) => entry.attempt)).toEqual([1, 2, 3])
      expect(await bus.deadLetters('conformance-reserver').count()).toBe(0)
    })

    it('honours the retry delay within SPEC bounds and delays no other event meanwhile', async () => {
      const delayMs = 600
      const log: Received[] = []
      const failedAt = new Map<string, number>()
      const bus = h.bus()
      bus.listen(
        'mail.requested',
        h.recorder(log, 'bus', (event, ctx) => {
          if ((event.data as { fail: boolean }).fail && ctx.attempt === 1) {
            failedAt.set(event.id, performance.now())
            throw new Error('smtp down')
          }
        }),
        { name: 'mailer', retry: { maxAttempts: 2, backoff: fixed(delayMs) }, concurrency: 1 },
      )
      await bus.start()
      const slow = await bus.publish('mail.requested', { fail: true })
      await h.waitForCount(log, 1, 'first attempts')
      const fresh = await bus.publish('mail.requested', { fail: false })
      await h.waitForCount(log, 3, 'deliveries')
      const order = log.map((entry) => `${entry.event.id === slow.id ? 'slow' : 'fresh'}#${entry.attempt}`)
      expect(order).toEqual(['slow#1', 'fresh#1', 'slow#2'])
      const freshEntry = log.find((entry) => entry.event.id === fresh.id)!
      expect(freshEntry.at - failedAt.get(slow.id)!).toBeLessThan(delayMs)
      const retried = log.find((entry) => entry.event.id === slow.id && entry.attempt === 2)!
      expectDelayWithinSpec(retried.at - failedAt.get(slow.id)!, delayMs)
    })

    it('redelivers a short delay before a long one queued earlier (no head-of-line blocking)', async () => {
      const log: Received[] = []
      const bus = h.bus()
      bus.listen(
        'report.requested',
        h.recorder(log, 'bus', (event, ctx) => {
          if (ctx.attempt === 1) throw new RetryLater((event.data as { delayMs: number }).delayMs)
        }),
        { name: 'reporter', retry: { maxAttempts: 2 } },
      )
      await bus.start()
      const long = await bus.publish('report.requested', { delayMs: 1500 })
      await h.waitForCount(log, 1, 'first attempts')
      const short = await bus.publish('report.requested', { delayMs: 100 })
      await h.waitForCount(log, 4, 'deliveries', 5000)
      const second = log.filter((entry) => entry.attempt === 2).map((entry) => entry.event.id)
      expect(second).toEqual([short.id, long.id])
    })

    it('retries after exactly the delay a handler asks for with RetryLater(ms)', async () => {
      const log: Received[] = []
      let failedAt = 0
      const bus = h.bus()
      bus.listen(
        'quote.requested',
        h.recorder(log, 'bus', (_event, ctx) => {
          if (ctx.attempt === 1) {
            failedAt = performance.now()
            throw new RetryLater(300)
          }
        }),
        { name: 'quoter', retry: { maxAttempts: 3, backoff: fixed(5000) } },
      )
      await bus.start()
      await bus.publish('quote.requested', {})
      await h.waitForCount(log, 2, 'attempts', 4000)
      expectDelayWithinSpec(log[1]!.at - failedAt, 300)
    })

    it('sends NonRetryable failures straight to the dead-letter queue', async () => {
      const log: Received[] = []
      const bus = h.bus()
      bus.listen(
        'user.deleted',
        h.recorder(log, 'bus', () => {
          throw new NonRetryable(new TypeError('user id is malformed'))
        }),
        { name: 'gdpr', retry: { maxAttempts: 5, backoff: fixed(10) } },
      )
      await bus.start()
      await bus.publish('user.deleted', { userId: '??' })
      const dlq = bus.deadLetters('conformance-gdpr')
      await waitForDeadLetters(dlq, 1)
      const [letter] = await dlq.list()
      expect(log).toHaveLength(1)
      expect(letter!.history).toHaveLength(1)
      expect(letter!.history[0]!.error).toMatchObject({ name: 'TypeError', message: 'user id is malformed' })
      expect(letter!.reason).toMatch(/non-retryable/)
    })

    it('dead-letters at once when the policy says isRetryable(error) === false', async () => {
      const log: Received[] = []
      class Invalid extends Error {}
      const bus = h.bus()
      bus.listen(
        'form.submitted',
        h.recorder(log, 'bus', () => {
          throw new Invalid('bad form')
        }),
        {
          name: 'forms',
          retry: { maxAttempts: 5, backoff: fixed(10), isRetryable: (error) => !(error instanceof Invalid) },
        },
      )
      await bus.start()
      await bus.publish('form.submitted', {})
      await waitForDeadLetters(bus.deadLetters('conformance-forms'), 1)
      expect(log).toHaveLength(1)
    })

    it('lets an onError hook override the decision', async () => {
      const log: Received[] = []
      const bus = h.bus()
      bus.listen(
        'cache.invalidated',
        h.recorder(log, 'bus', () => {
          throw new Error('cache node unreachable')
        }),
        { name: 'cache', retry: { maxAttempts: 5, backoff: fixed(10) }, onError: () => 'ack' },
      )
      await bus.start()
      await bus.publish('cache.invalidated', {})
      await h.waitForCount(log, 1, 'attempts')
      await sleep(200)
      expect(log).toHaveLength(1)
      expect(await bus.deadLetters('conformance-cache').count()).toBe(0)
    })

    it('fails an attempt that passes timeoutMs and aborts ctx.signal', async () => {
      let aborted: unknown
      const bus = h.bus()
      bus.listen(
        'video.uploaded',
        (_event, ctx) =>
          new Promise<void>((resolve) => {
            ctx.signal.addEventListener('abort', () => {
              aborted = ctx.signal.reason
              resolve()
            })
          }),
        { name: 'transcoder', timeoutMs: 100, retry: false },
      )
      await bus.start()
      await bus.publish('video.uploaded', {})
      const dlq = bus.deadLetters('conformance-transcoder')
      await waitForDeadLetters(dlq, 1)
      const [letter] = await dlq.list()
      expect(letter!.history[0]!.error.name).toBe('HandlerTimeoutError')
      expect(aborted).toBeInstanceOf(HandlerTimeoutError)
    })
  })
}

export async function waitForDeadLetters(
  dlq: { count(): Promise<number> },
  count: number,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let seen = 0
  while (Date.now() < deadline) {
    seen = await dlq.count()
    if (seen >= count) return
    await sleep(20)
  }
  throw new Error(
    `Timed out after ${timeoutMs} ms waiting for ${count} dead letter(s); the queue holds ${seen}.`,
  )
}
