import { performance } from 'node:perf_hooks'

/**
 * How many routine records a saturated process still writes: `perSecond`, earned as time passes, at
 * most a second's worth saved up. A consumer that is busy because each event takes long to handle
 * keeps its whole record; one that is busy because events pour in keeps a sample.
 */
export class RoutineAllowance {
  private available: number
  private earnedAt: number

  constructor(
    private readonly perSecond: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.available = perSecond
    this.earnedAt = now()
  }

  /** One routine record may be written: true, and it is spent. */
  take(): boolean {
    if (this.available < 1) return false
    this.available -= 1
    return true
  }

  /** Adds what the time since the last call earned (called on the journal's sampling timer). */
  earn(): void {
    const now = this.now()
    this.available = Math.min(
      this.perSecond,
      this.available + ((now - this.earnedAt) / 1000) * this.perSecond,
    )
    this.earnedAt = now
  }
}
