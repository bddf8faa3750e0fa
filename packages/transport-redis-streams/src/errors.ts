/** Redis error helpers. */

export function isNoGroupError(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOGROUP')
}

export function isBusyGroupError(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('BUSYGROUP')
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/**
 * How long close() waits for each of its calls to Redis (with `atMost`): what it asks of an
 * unreachable Redis (flushing acks, handing entries back, removing an ephemeral group) must not hold
 * close() up. Anything left undone is undone safely: unacked entries are redelivered after
 * ackTimeoutMs, and retention removes an abandoned ephemeral group.
 */
export const CLOSE_STEP_MS = 1000
