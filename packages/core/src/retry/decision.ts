import { NonRetryable, RetryLater } from '../errors/control-flow.js'
import type { RetryPolicy } from './retry-policy.js'

export type Decision =
  | { readonly action: 'retry'; readonly delayMs: number }
  | { readonly action: 'dead-letter'; readonly reason: string }
  | { readonly action: 'ack' }

/** What an `onError` hook may return to override the decision; undefined keeps it. */
export type ErrorVerdict = 'retry' | 'dead-letter' | 'ack' | { readonly retryAfterMs: number } | undefined

/**
 * The one place that turns a handler failure into retry or dead letter, for every transport.
 * `attempt` is the attempt that just failed (1-based).
 */
export function decide(
  error: unknown,
  attempt: number,
  policy: RetryPolicy,
  verdict?: ErrorVerdict,
): Decision {
  if (verdict === 'ack') return { action: 'ack' }
  if (verdict === 'dead-letter') return { action: 'dead-letter', reason: 'dead-lettered by the onError hook' }
  const exhausted = attempt >= policy.maxAttempts
  const exhaustedReason = `exhausted: ${attempt} of ${policy.maxAttempts} attempts failed`
  if (verdict === 'retry' || (typeof verdict === 'object' && verdict !== null)) {
    if (exhausted) return { action: 'dead-letter', reason: exhaustedReason }
    const delayMs = typeof verdict === 'object' ? verdict.retryAfterMs : policy.backoff(attempt)
    return { action: 'retry', delayMs }
  }
  if (error instanceof NonRetryable)
    return { action: 'dead-letter', reason: 'non-retryable: the handler threw NonRetryable' }
  if (error instanceof RetryLater) {
    return exhausted
      ? { action: 'dead-letter', reason: exhaustedReason }
      : { action: 'retry', delayMs: error.delayMs }
  }
  if (policy.isRetryable && !safeIsRetryable(policy, error)) {
    return { action: 'dead-letter', reason: 'non-retryable: retry.isRetryable(error) returned false' }
  }
  if (exhausted) return { action: 'dead-letter', reason: exhaustedReason }
  return { action: 'retry', delayMs: Math.max(0, policy.backoff(attempt)) }
}

function safeIsRetryable(policy: RetryPolicy, error: unknown): boolean {
  try {
    return policy.isRetryable!(error) !== false
  } catch {
    return true // a broken predicate must not lose the event: retry as the default would
  }
}
