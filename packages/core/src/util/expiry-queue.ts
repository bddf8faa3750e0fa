import type { Clock } from '../time/clock.js'
import { Queue } from './queue.js'

interface Entry<T> {
  readonly item: T
  readonly at: number
}

/**
 * Items that expire at a time, all added with the same lifetime, so they expire in the order they
 * were added: a FIFO with lazy removal and ONE timer serves them all, and a busy listener pays no
 * timer per event. Handler deadlines and client-side leases are both this.
 */
export class ExpiryQueue<T> {
  private readonly entries = new Queue<Entry<T>>()
  private timer: unknown
  private stopped = false

  constructor(
    private readonly clock: Clock,
    /** True when the entry no longer matters (settled, renewed since: a newer entry stands behind). */
    private readonly isStale: (item: T, at: number) => boolean,
    private readonly onExpire: (item: T) => void,
  ) {}

  /** `at` must not be earlier than that of any item added before (same lifetime, same clock). */
  add(item: T, at: number): void {
    if (this.stopped) return
    // Most items end long before they expire: drop ended ones from the front as new ones come, so a
    // busy subscription holds about as many entries as it has live items, not a lifetime's worth.
    for (let head = this.entries.peek(); head && this.isStale(head.item, head.at); head = this.entries.peek())
      this.entries.shift()
    this.entries.push({ item, at })
    if (this.timer === undefined) this.arm(at - this.clock.now())
  }

  stop(): void {
    this.stopped = true
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer)
    this.timer = undefined
  }

  private arm(delayMs: number): void {
    this.timer = this.clock.setTimeout(this.expire, Math.max(1, Math.ceil(delayMs)))
  }

  private readonly expire = (): void => {
    this.timer = undefined
    const now = this.clock.now()
    for (;;) {
      const head = this.entries.shift()
      if (!head) return
      if (this.isStale(head.item, head.at)) continue
      if (head.at > now) {
        this.entries.unshift(head)
        this.arm(head.at - now)
        return
      }
      this.onExpire(head.item)
    }
  }
}
