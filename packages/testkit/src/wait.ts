/** Thrown when a test waited for something that did not happen; the message says what was seen instead. */
export class WaitForTimeoutError extends Error {
  constructor(what: string, timeoutMs: number, seen: string) {
    super(`Timed out after ${timeoutMs} ms waiting for ${what}. ${seen}`)
    this.name = 'WaitForTimeoutError'
  }
}

/** Polls `check` until it returns a value other than undefined/false, or throws WaitForTimeoutError. */
export async function waitUntil<T>(
  check: () => T | undefined | false,
  options: { timeoutMs?: number; what?: string; seen?: () => string; intervalMs?: number } = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 5000
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = check()
    if (value !== undefined && value !== false) return value
    if (Date.now() > deadline) {
      throw new WaitForTimeoutError(options.what ?? 'a condition', timeoutMs, options.seen?.() ?? '')
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 5))
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
