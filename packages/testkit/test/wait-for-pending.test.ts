import { fixed, silentLogger } from '@tidings/core'
import { createTestBus, WaitForTimeoutError } from '@tidings/testkit'
import { describe, expect, it } from 'vitest'

describe('waitFor says what is pending when it times out', () => {
  it('names a retry that is due later in clock time, and how to get there', async () => {
    const { bus, clock, waitFor } = createTestBus({ service: 'shop', logger: silentLogger })
    bus.listen(
      'order.placed',
      (_event, ctx) => {
        if (ctx.attempt === 1) throw new Error('not yet')
      },
      { name: 'shipping', retry: { backoff: fixed(1180) } },
    )
    await bus.start()
    await bus.publish('order.placed', {})
    await waitFor('order.placed', { kind: 'retry-scheduled' })
    const failure = await waitFor('order.placed', { timeoutMs: 50 }).catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(WaitForTimeoutError)
    expect((failure as Error).message).toBe(
      'Timed out after 50 ms waiting for 1 "order.placed" event(s) handled. Nothing was handled. ' +
        'A retry of order.placed (attempt 2 in shop-shipping) is due in 1,180 ms of clock time: ' +
        'call clock.advance(1180) or clock.advanceToNextTimer().',
    )
    await clock.advance(1000)
    await expect(waitFor('order.placed', { timeoutMs: 20 })).rejects.toThrow(/is due in 180 ms of clock time/)
    await clock.advance(180)
    await waitFor('order.placed')
    await bus.close()
  })

  it('names a handler still running, and the clock timers when no retry is pending', async () => {
    const { bus, waitFor } = createTestBus({ service: 'video', logger: silentLogger })
    let finish: () => void = () => {}
    bus.listen('video.uploaded', () => new Promise<void>((resolve) => (finish = resolve)), {
      name: 'transcoder',
      timeoutMs: 5000,
    })
    await bus.start()
    await bus.publish('video.uploaded', {})
    await expect(waitFor('video.uploaded', { timeoutMs: 50 })).rejects.toThrow(
      /A handler of video\.uploaded \(attempt 1 in video-transcoder\) is still running\. The clock has \d+ timer\(s\) pending, the next due in 5,000 ms/,
    )
    finish()
    await waitFor('video.uploaded')
    await bus.close()
  })

  it('says when nothing is pending on the clock, so moving time would not help', async () => {
    const { bus, waitFor } = createTestBus({ service: 'shop' })
    await bus.publish('order.placed', {})
    await expect(waitFor('order.cancelled', { kind: 'published', timeoutMs: 20 })).rejects.toThrow(
      /Seen published: order\.placed\. No timer is pending on the clock\.$/,
    )
    await bus.close()
  })
})
