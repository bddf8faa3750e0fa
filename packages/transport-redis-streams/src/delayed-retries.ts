import type { Logger } from '@tidings/core'
import { errorMessage } from './errors.js'
import type { GroupKeys } from './keys.js'
import type { Scripts } from './scripts.js'

const BATCH = 200

/**
 * Delayed retries of one group: `retry()` puts the message into the sorted set `{ns}:<group>:delayed`
 * scored by its due time (server clock); this poller moves due members into the group's retry stream
 * with one Lua script (XADD + ZREM, atomic), where the group's consumers read them like any entry.
 * Nothing waits in a stream in front of other events, so a long delay never holds back a short one
 * or fresh events (G4). Every process of the group polls; the script makes concurrent moves safe.
 * The next run is at the earlier of the poll interval and the next due time, so a retry is late by
 * at most about `pollMs` plus one read.
 */
export class DelayedRetryMover {
  private timer: NodeJS.Timeout | undefined
  private running = false
  private busy = false

  constructor(
    private readonly scripts: Scripts,
    private readonly keys: GroupKeys,
    private readonly pollMs: number,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.running = true
    this.schedule(0)
  }

  stop(): void {
    this.running = false
    if (this.timer) clearTimeout(this.timer)
    this.timer = undefined
  }

  /** A retry due in `delayMs` was just scheduled: make sure the poller wakes up for it. */
  nudge(delayMs: number): void {
    if (delayMs < this.pollMs && this.running && !this.busy) this.schedule(delayMs)
  }

  private schedule(ms: number): void {
    if (!this.running) return
    if (this.timer) clearTimeout(this.timer)
    this.timer = setTimeout(() => void this.run(), ms)
    this.timer.unref()
  }

  private async run(): Promise<void> {
    this.timer = undefined
    this.busy = true
    let next = this.pollMs
    try {
      const [moved, waitMs] = (await this.scripts.run(
        'tidingsMoveDue',
        [this.keys.delayed, this.keys.retry],
        [BATCH],
      )) as [number, number]
      if (moved >= BATCH) next = 0
      else if (waitMs >= 0) next = Math.min(this.pollMs, waitMs)
    } catch (error) {
      this.logger.warn(
        { group: this.keys.group, error: errorMessage(error) },
        'moving delayed retries failed; will retry',
      )
      next = Math.max(this.pollMs, 500)
    } finally {
      this.busy = false
    }
    this.schedule(next)
  }
}
