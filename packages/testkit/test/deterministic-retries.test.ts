import { defaultRetryPolicy, exponential, fixed } from '@tidings/core'
import { createTestBus, jitterFreeDefaultBackoff } from '@tidings/testkit'
import { describe, expect, it } from 'vitest'

/** A listener on the default retry policy whose first attempt fails; resolves once the retry succeeded. */
async function failOnceThenAdvance(advanceMs: number, options: { jitter?: boolean } = {}): Promise<number> {
  const { bus, clock, waitFor, recorded } = createTestBus({ service: 'shop', ...options })
  let calls = 0
  bus.listen(
    'order.placed',
    () => {
      calls += 1
      if (calls === 1) throw new Error('the warehouse is busy')
    },
    { name: 'shipping' },
  )
  await bus.start()
  await bus.publish('order.placed', { orderId: 'o-1' })
  await waitFor('order.placed', { kind: 'failed' })
  await clock.advance(advanceMs)
  await waitFor('order.placed', { timeoutMs: 500 })
  await bus.close()
  return recorded.retried[0]!.delayMs
}

describe('retries on the test bus are deterministic', () => {
  it('reaches the first retry of the default back-off with clock.advance(1000), 20 runs out of 20', async () => {
    // This scenario failed 13 of 20 runs while the test bus kept core's ±20 % jitter.
    for (let run = 0; run < 20; run += 1) {
      expect(await failOnceThenAdvance(1000)).toBe(1000)
    }
  })

  it('uses core default back-off without the jitter: 1 s, ×2, capped at 60 s', () => {
    const centre = (attempt: number): number => Math.min(60_000, 1000 * 2 ** (attempt - 1))
    for (let attempt = 1; attempt <= 10; attempt += 1) {
      expect(jitterFreeDefaultBackoff(attempt)).toBe(centre(attempt))
      // If core's default changes, this says the test bus no longer mirrors it.
      const jittered = defaultRetryPolicy.backoff(attempt)
      expect(jittered).toBeGreaterThanOrEqual(Math.floor(centre(attempt) * 0.8))
      expect(jittered).toBeLessThanOrEqual(Math.min(60_000, Math.ceil(centre(attempt) * 1.2)))
    }
    expect(jitterFreeDefaultBackoff.maxDelayMs).toBe(defaultRetryPolicy.backoff.maxDelayMs)
  })

  it('keeps the jitter when asked with createTestBus({ jitter: true })', async () => {
    const { bus, clock, recorded, waitFor } = createTestBus({ service: 'shop', jitter: true })
    bus.listen(
      'order.placed',
      (_event, ctx) => {
        if (ctx.attempt === 1) throw new Error('not yet')
      },
      { name: 'shipping' },
    )
    await bus.start()
    for (let i = 0; i < 20; i += 1) await bus.publish('order.placed', { orderId: `o-${i}` })
    await waitFor('order.placed', { kind: 'retry-scheduled', count: 20 })
    const delays = recorded.retried.map((retry) => retry.delayMs)
    expect(new Set(delays).size).toBeGreaterThan(1)
    for (const delay of delays) expect(delay).toBeGreaterThanOrEqual(800)
    await clock.advance(1200)
    await waitFor('order.placed', { count: 20 })
    await bus.close()
  })

  it('uses a back-off the test gives as given, on the bus defaults or on a listener', async () => {
    const { bus, clock, recorded, waitFor } = createTestBus({
      service: 'shop',
      defaults: { retry: { backoff: fixed(300) } },
    })
    const failFirst = (_event: unknown, ctx: { attempt: number }): void => {
      if (ctx.attempt === 1) throw new Error('not yet')
    }
    bus.listen('order.placed', failFirst, { name: 'from-defaults' })
    bus.listen('order.placed', failFirst, {
      name: 'own',
      retry: { backoff: exponential({ initialMs: 700 }) },
    })
    bus.listen('order.placed', failFirst, { name: 'inherits', retry: { maxAttempts: 2 } })
    await bus.start()
    await bus.publish('order.placed', {})
    await waitFor('order.placed', { kind: 'retry-scheduled', count: 3 })
    const delayOf = (group: string) => recorded.retried.find((retry) => retry.group === group)?.delayMs
    expect(delayOf('shop-from-defaults')).toBe(300)
    expect(delayOf('shop-own')).toBe(700)
    expect(delayOf('shop-inherits')).toBe(300)
    await clock.runAllTimers()
    await waitFor('order.placed', { count: 3 })
    await bus.close()
  })

  it('retries nothing when the defaults say retry: false', async () => {
    const { bus, waitFor, recorded } = createTestBus({ service: 'shop', defaults: { retry: false } })
    bus.listen(
      'order.placed',
      () => {
        throw new Error('broken')
      },
      { name: 'shipping' },
    )
    await bus.start()
    await bus.publish('order.placed', {})
    await waitFor('order.placed', { kind: 'dead-lettered' })
    expect(recorded.retried).toEqual([])
    await bus.close()
  })

  it('runs every retry to the dead-letter queue with clock.runAllTimers() while leases renew', async () => {
    const { bus, clock, recorded, waitFor } = createTestBus({ service: 'shop' })
    bus.listen(
      'order.placed',
      () => {
        throw new Error('always fails')
      },
      { name: 'shipping', ackTimeoutMs: 3000 },
    )
    await bus.start()
    await bus.publish('order.placed', {})
    await waitFor('order.placed', { kind: 'failed' })
    await clock.runAllTimers()
    await waitFor('order.placed', { kind: 'dead-lettered' })
    expect(recorded.retried.map((retry) => retry.delayMs)).toEqual([1000, 2000, 4000, 8000])
    expect(recorded.deadLettered[0]!.history).toHaveLength(5)
    await bus.close()
  })
})
