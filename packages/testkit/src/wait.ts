import { WaitForTimeoutError } from './errors.js'

/**
 * Polls `check` (sync or async) until it returns a value other than undefined/false, or throws
 * WaitForTimeoutError.
 */
export async function waitUntil<T>(
  check: () => T | undefined | false | PromiseLike<T | undefined | false>,
  options: { timeoutMs?: number; what?: string; seen?: () => string; intervalMs?: number } = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 5000
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined && value !== false) return value
    if (Date.now() > deadline) {
      throw new WaitForTimeoutError(options.what ?? 'a condition', timeoutMs, options.seen?.() ?? '')
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 5))
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
