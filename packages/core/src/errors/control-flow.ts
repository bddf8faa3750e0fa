/**
 * Thrown by a handler to ask for a retry after exactly `delayMs`, overriding the backoff.
 * It still counts as an attempt: once `maxAttempts` is reached the event is dead-lettered.
 */
export class RetryLater extends Error {
  readonly delayMs: number

  constructor(delayMs: number, reason?: string) {
    super(reason ?? `Retry requested in ${delayMs} ms`)
    if (!Number.isFinite(delayMs) || delayMs < 0) {
      throw new RangeError(`RetryLater needs a delay in milliseconds >= 0, got ${String(delayMs)}`)
    }
    this.name = 'RetryLater'
    this.delayMs = delayMs
  }
}

/** Thrown by a handler (wrapping the real cause) to send the event straight to the dead-letter queue. */
export class NonRetryable extends Error {
  constructor(cause: unknown, message?: string) {
    super(message ?? (cause instanceof Error ? cause.message : String(cause)), { cause })
    this.name = 'NonRetryable'
    if (cause instanceof Error && cause.stack) this.stack = cause.stack
  }
}
