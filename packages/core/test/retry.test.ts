import { ConfigError, exponential, fixed, NonRetryable, RetryLater } from '@tidings/core'
import { describe, expect, it } from 'vitest'
import { decide } from '../src/retry/decision.js'
import { resolveRetryPolicy } from '../src/retry/retry-policy.js'

describe('retry policies', () => {
  it('grows exponentially, capped', () => {
    const backoff = exponential({ initialMs: 1000, factor: 5, maxMs: 60_000 })
    expect([1, 2, 3, 4].map(backoff)).toEqual([1000, 5000, 25_000, 60_000])
  })

  it('spreads with jitter but never past the cap or below zero', () => {
    const backoff = exponential({ initialMs: 1000, factor: 2, maxMs: 1500, jitter: 0.5 })
    for (let i = 0; i < 1000; i += 1) {
      const first = backoff(1)
      expect(first).toBeGreaterThanOrEqual(500)
      expect(first).toBeLessThanOrEqual(1500)
      expect(backoff(5)).toBeLessThanOrEqual(1500)
    }
  })

  it.each([
    () => fixed(-1),
    () => exponential({ factor: 0.5 }),
    () => exponential({ jitter: 2 }),
    () => exponential({ initialMs: 10, maxMs: 5 }),
    () => resolveRetryPolicy({ maxAttempts: 1.5 }),
    () => resolveRetryPolicy({ backoff: 100 as never }),
  ])('refuses bad options with ConfigError (%#)', (make) => {
    expect(make).toThrow(ConfigError)
  })

  it('defaults to 5 attempts (SPEC G5)', () => {
    expect(resolveRetryPolicy(undefined).maxAttempts).toBe(5)
    expect(resolveRetryPolicy(false).maxAttempts).toBe(1)
  })

  describe('decide', () => {
    const policy = { maxAttempts: 3, backoff: fixed(100) }
    it('retries with the backoff until maxAttempts, then dead-letters', () => {
      expect(decide(new Error('x'), 1, policy)).toEqual({ action: 'retry', delayMs: 100 })
      expect(decide(new Error('x'), 3, policy)).toMatchObject({
        action: 'dead-letter',
        reason: expect.stringMatching(/exhausted/),
      })
    })
    it('uses the RetryLater delay, still bounded by maxAttempts', () => {
      expect(decide(new RetryLater(7), 1, policy)).toEqual({ action: 'retry', delayMs: 7 })
      expect(decide(new RetryLater(7), 3, policy).action).toBe('dead-letter')
    })
    it('dead-letters NonRetryable and isRetryable() === false at once', () => {
      expect(decide(new NonRetryable(new Error('x')), 1, policy).action).toBe('dead-letter')
      expect(decide(new Error('x'), 1, { ...policy, isRetryable: () => false }).action).toBe('dead-letter')
    })
    it('retries when isRetryable itself throws, rather than lose the event', () => {
      const broken = {
        ...policy,
        isRetryable: () => {
          throw new Error('bug')
        },
      }
      expect(decide(new Error('x'), 1, broken).action).toBe('retry')
    })
    it('lets an onError verdict override', () => {
      expect(decide(new Error('x'), 1, policy, 'ack')).toEqual({ action: 'ack' })
      expect(decide(new Error('x'), 1, policy, 'dead-letter').action).toBe('dead-letter')
      expect(decide(new NonRetryable('x'), 1, policy, { retryAfterMs: 5 })).toEqual({
        action: 'retry',
        delayMs: 5,
      })
      expect(decide(new NonRetryable('x'), 3, policy, 'retry').action).toBe('dead-letter')
    })
    it('refuses a negative RetryLater delay', () => {
      expect(() => new RetryLater(-5)).toThrow(RangeError)
    })
  })
})
