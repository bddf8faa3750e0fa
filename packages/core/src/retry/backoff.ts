import { ConfigError } from '../errors/errors.js'

/**
 * Delay in milliseconds before the attempt after failed attempt `attempt` (1-based). `fixed` and
 * `exponential` also say their longest delay, so a listener is checked against the broker's maximum
 * delay at start instead of failing on the fifth attempt.
 */
export type Backoff = ((attempt: number) => number) & { readonly maxDelayMs?: number }

/** The same delay every time. */
export function fixed(delayMs: number): Backoff {
  assertNonNegative(delayMs, 'fixed(delayMs)')
  return Object.assign(() => delayMs, { maxDelayMs: delayMs })
}

export interface ExponentialOptions {
  /** Delay after the first failure (default 1000). */
  readonly initialMs?: number | undefined
  /** Growth per attempt (default 2). */
  readonly factor?: number | undefined
  /** Cap on any delay (default 60 000). */
  readonly maxMs?: number | undefined
  /** 0..1: each delay is spread uniformly over ±jitter×delay, so retries of a burst do not arrive together (default 0). */
  readonly jitter?: number | undefined
}

/** initialMs × factor^(attempt−1), capped at maxMs, with optional ± jitter (still capped). */
export function exponential(options: ExponentialOptions = {}): Backoff {
  const { initialMs = 1000, factor = 2, maxMs = 60_000, jitter = 0 } = options
  assertNonNegative(initialMs, 'exponential({ initialMs })')
  assertNonNegative(maxMs, 'exponential({ maxMs })')
  if (typeof factor !== 'number' || !Number.isFinite(factor) || factor < 1) {
    throw new ConfigError(`exponential({ factor }) must be a number >= 1, got ${String(factor)}.`)
  }
  if (typeof jitter !== 'number' || !(jitter >= 0 && jitter <= 1)) {
    throw new ConfigError(
      `exponential({ jitter }) must be between 0 and 1 (a fraction of the delay), got ${String(jitter)}.`,
    )
  }
  if (maxMs < initialMs) {
    throw new ConfigError(`exponential({ maxMs }) (${maxMs}) must be at least initialMs (${initialMs}).`)
  }
  const delay = (attempt: number): number => {
    const base = Math.min(maxMs, initialMs * factor ** Math.max(0, attempt - 1))
    if (jitter === 0) return Math.round(base)
    const spread = base * jitter * (Math.random() * 2 - 1)
    return Math.round(Math.min(maxMs, Math.max(0, base + spread)))
  }
  return Object.assign(delay, { maxDelayMs: maxMs })
}

function assertNonNegative(value: unknown, where: string): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new ConfigError(`${where} must be a finite number of milliseconds >= 0, got ${String(value)}.`)
  }
}
