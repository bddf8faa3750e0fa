/** How reconnection (or any retry of a broker operation) spaces its attempts. */
export interface BackOffOptions {
  /** Delay before the first retry (ms). */
  readonly initialDelayMs: number
  /** Ceiling of the delay (ms). */
  readonly maxDelayMs: number
  /** Growth per attempt (2 doubles). */
  readonly factor: number
  /** Spread as a fraction of the delay (0.2 = ±20 %), so many clients do not retry in lockstep. */
  readonly jitter: number
}

export const DEFAULT_BACK_OFF: BackOffOptions = Object.freeze({
  initialDelayMs: 100,
  maxDelayMs: 5000,
  factor: 2,
  jitter: 0.2,
})

/** Delay before attempt `attempt` (1-based): exponential, capped, jittered. */
export function backOffDelay(attempt: number, options: BackOffOptions = DEFAULT_BACK_OFF): number {
  const base = Math.min(
    options.maxDelayMs,
    options.initialDelayMs * options.factor ** Math.max(0, attempt - 1),
  )
  const spread = base * options.jitter
  return Math.max(0, Math.round(base - spread + Math.random() * 2 * spread))
}

/**
 * Sleeps that can be cut short: close() wakes every sleeper so it does not wait out a back-off, and
 * a publish waiting for a reconnect can ask for the next attempt now instead of after the back-off.
 */
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

  /** Ends every pending sleep now. */
  wakeAll(): void {
    for (const done of [...this.pending]) done()
  }

  get sleeping(): boolean {
    return this.pending.size > 0
  }
}
