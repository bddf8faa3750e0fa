import { ConfigError } from '../errors/errors.js'
import { type Backoff, exponential } from './backoff.js'

export interface RetryPolicy {
  /** Attempts in all, the first included (default 5, SPEC G5). 1 means no retry. */
  readonly maxAttempts: number
  /** Delay before each retry (default exponential from 1 s, ×2, capped at 60 s, ±20 % jitter). */
  readonly backoff: Backoff
  /** Return false for errors that no retry can fix: they go straight to the dead-letter queue. */
  readonly isRetryable?: (error: unknown) => boolean | undefined
}

export type RetryOptions = Partial<RetryPolicy> | false

export const DEFAULT_MAX_ATTEMPTS = 5

export const defaultRetryPolicy: RetryPolicy = Object.freeze({
  maxAttempts: DEFAULT_MAX_ATTEMPTS,
  backoff: exponential({ initialMs: 1000, factor: 2, maxMs: 60_000, jitter: 0.2 }),
})

/** Validates user options over a base policy; `false` means a single attempt. */
export function resolveRetryPolicy(
  options: RetryOptions | undefined,
  base: RetryPolicy = defaultRetryPolicy,
): RetryPolicy {
  if (options === undefined) return base
  if (options === false) return { ...base, maxAttempts: 1 }
  if (options === null || typeof options !== 'object') {
    throw new ConfigError(
      'The retry option must be an object such as { maxAttempts: 5, backoff: exponential() }, or false.',
    )
  }
  const policy: RetryPolicy = { ...base, ...definedOnly(options) }
  if (!Number.isInteger(policy.maxAttempts) || policy.maxAttempts < 1) {
    throw new ConfigError(
      `retry.maxAttempts must be a whole number >= 1 (it counts the first attempt), got ${String(policy.maxAttempts)}.`,
    )
  }
  if (typeof policy.backoff !== 'function') {
    throw new ConfigError(
      'retry.backoff must be a function (attempt) => delayMs, such as exponential() or fixed(500).',
    )
  }
  if (policy.isRetryable !== undefined && typeof policy.isRetryable !== 'function') {
    throw new ConfigError('retry.isRetryable must be a function (error) => boolean.')
  }
  return policy
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>
}
