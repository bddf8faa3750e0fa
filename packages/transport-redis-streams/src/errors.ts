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
 * Waits for `work` at most `ms`, then goes on whatever it does: what close() asks of an unreachable
 * Redis (flushing acks, handing entries back, removing an ephemeral group) must not hold close() up.
 * Anything left undone is undone safely: unacked entries are redelivered after ackTimeoutMs, and
 * retention removes an abandoned ephemeral group.
 */
export function atMost(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  return Promise.race([
    work.then(
      () => undefined,
      () => undefined,
    ),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms)
    }),
  ]).finally(() => clearTimeout(timer))
}

/** How long close() waits for each of its calls to Redis. */
export const CLOSE_STEP_MS = 1000
