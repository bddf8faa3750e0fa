import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { atMost } from '../src/transport-kit.js'

describe('atMost (a bounded wait for close())', () => {
  beforeEach(() => vi.useFakeTimers())
  afterEach(() => vi.useRealTimers())

  it('says true for work that settles in time, and leaves no timer behind to hold the process open', async () => {
    const waiting = atMost(Promise.resolve('done'), 1000)
    await expect(waiting).resolves.toBe(true)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('counts a rejection as settled, without an unhandled rejection', async () => {
    await expect(atMost(Promise.reject(new Error('the broker is gone')), 1000)).resolves.toBe(true)
  })

  it('gives up after the time given, and says false', async () => {
    const waiting = atMost(new Promise(() => {}), 1000)
    await vi.advanceTimersByTimeAsync(999)
    let settled = false
    void waiting.then(() => {
      settled = true
    })
    await Promise.resolve()
    expect(settled).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    await expect(waiting).resolves.toBe(false)
  })
})
