import { fixed } from '@tidings/core'
import { createTestBus, ManualClock } from '@tidings/testkit'
import { describe, expect, it } from 'vitest'

describe('createTestBus', () => {
  it('passes an hour of retry delays in microseconds with the manual clock', async () => {
    const clock = new ManualClock()
    const { bus, waitFor, recorded } = createTestBus({ service: 'shop', clock })
    let calls = 0
    bus.listen(
      'order.placed',
      () => {
        calls += 1
        if (calls < 3) throw new Error('not yet')
      },
      { name: 'shipping', retry: { maxAttempts: 5, backoff: fixed(30 * 60_000) } },
    )
    await bus.start()
    await bus.publish('order.placed', { orderId: 'o-1' })
    await waitFor('order.placed', { kind: 'failed' })
    await clock.advance(30 * 60_000 - 1)
    expect(calls).toBe(1)
    await clock.advance(1)
    await clock.advance(30 * 60_000)
    await waitFor('order.placed')
    expect(calls).toBe(3)
    expect(recorded.retried.map((retry) => retry.delayMs)).toEqual([1_800_000, 1_800_000])
    await bus.close()
  })

  it('records what was published and fails waitFor with a message that shows what was seen', async () => {
    const { bus, waitFor, expectPublished } = createTestBus({ service: 'shop' })
    await bus.publish('order.placed', { orderId: 'o-1', lines: [{ sku: 'a' }] })
    expect(expectPublished('order.placed', { lines: [{ sku: 'a' }] }).type).toBe('order.placed')
    expect(() => expectPublished('order.cancelled')).toThrow(/Published:\n {2}order.placed/)
    await expect(waitFor('order.cancelled', { kind: 'published', timeoutMs: 50 })).rejects.toThrow(
      /waiting for 1 "order.cancelled" event\(s\) published\. Seen published: order.placed/,
    )
    await bus.close()
  })
})
