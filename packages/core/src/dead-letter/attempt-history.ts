import type { AttemptFailure } from '../transport/transport.js'

const STACK_LINES = 8
const MESSAGE_LENGTH = 2000

/**
 * One history record for a failed attempt; stacks are trimmed so dead letters stay small. `nowMs`
 * is the time of the failure (core passes its clock's, so a manual clock drives it in tests).
 */
export function recordFailure(
  error: unknown,
  attempt: number,
  retryDelayMs?: number,
  nowMs: number = Date.now(),
): AttemptFailure {
  const cause =
    error instanceof Error && error.name === 'NonRetryable' && error.cause instanceof Error
      ? error.cause
      : error
  const name = cause instanceof Error ? cause.name : typeof cause
  const message = (cause instanceof Error ? cause.message : safeString(cause)).slice(0, MESSAGE_LENGTH)
  const stack = cause instanceof Error && cause.stack ? trimStack(cause.stack) : undefined
  return {
    attempt,
    at: new Date(nowMs).toISOString(),
    error: stack === undefined ? { name, message } : { name, message, stack },
    ...(retryDelayMs === undefined ? {} : { retryDelayMs }),
  }
}

function trimStack(stack: string): string {
  return stack
    .split('\n')
    .slice(0, STACK_LINES + 1)
    .join('\n')
}

function safeString(value: unknown): string {
  try {
    return typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value))
  } catch {
    return String(value)
  }
}
