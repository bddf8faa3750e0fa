import type { ReconnectOptions } from './options.js'

/** Delay before reconnection attempt `attempt` (1-based). */
export function backoffDelay(attempt: number, options: Required<ReconnectOptions>): number {
  const base = Math.min(
    options.maxDelayMs,
    options.initialDelayMs * options.factor ** Math.max(0, attempt - 1),
  )
  const spread = base * options.jitter
  return Math.max(0, Math.round(base - spread + Math.random() * 2 * spread))
}

/** A sleep that close() can cut short. */
export class Sleeper {
  private readonly pending = new Set<() => void>()

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer)
        this.pending.delete(done)
        resolve()
      }
      const timer = setTimeout(done, ms)
      this.pending.add(done)
    })
  }

  wakeAll(): void {
    for (const done of [...this.pending]) done()
  }
}
