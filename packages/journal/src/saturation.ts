import { type EventLoopUtilization, performance } from 'node:perf_hooks'

/** How busy the event loop was, as `performance.eventLoopUtilization()` reports it (a test passes its own). */
export type UtilizationSource = (
  current?: EventLoopUtilization,
  previous?: EventLoopUtilization,
) => EventLoopUtilization

/** Saturated after this long at or above the threshold: one busy tick is not a saturated process. */
const ENTER_AFTER_MS = 250
/** Back to normal after this long clearly below it, so the journal's own work resuming does not flip it at once. */
const LEAVE_AFTER_MS = 1_000
const LEAVE_MARGIN = 0.1

/**
 * Whether this process is saturated, from how much of the time its event loop was busy (the
 * measure `@fastify/under-pressure` sheds requests on). Sampled on the journal's timer. Enters after
 * a quarter of a second at or above `threshold`; leaves after a second below `threshold - 0.1`.
 */
export class SaturationGauge {
  saturated = false
  /** The utilization of the last window judged, 0 to 1. */
  utilization = 0
  /** The last sample alone was at or above the threshold: the process may be becoming saturated. */
  busy = false
  private last: EventLoopUtilization
  private active = 0
  private elapsed = 0

  constructor(
    private readonly threshold: number,
    private readonly measure: UtilizationSource = (current, previous) =>
      performance.eventLoopUtilization(current, previous),
  ) {
    this.last = measure()
  }

  /** Measures from now: what the process did before the journal observed a bus is not its load. */
  reset(): void {
    this.last = this.measure()
    this.active = 0
    this.elapsed = 0
  }

  /** Takes a sample; true when `saturated` changed with it. */
  sample(): boolean {
    const now = this.measure()
    const delta = this.measure(now, this.last)
    this.last = now
    const span = delta.active + delta.idle
    this.busy = span > 0 && delta.active >= this.threshold * span
    this.active += delta.active
    this.elapsed += span
    if (this.elapsed < (this.saturated ? LEAVE_AFTER_MS : ENTER_AFTER_MS)) return false
    this.utilization = this.active / this.elapsed
    this.active = 0
    this.elapsed = 0
    const saturated = this.saturated
      ? this.utilization >= this.threshold - LEAVE_MARGIN
      : this.utilization >= this.threshold
    if (saturated === this.saturated) return false
    this.saturated = saturated
    return true
  }
}
