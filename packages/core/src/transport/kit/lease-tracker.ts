import { Queue } from '../../util/queue.js'

/** What a lease-holding delivery exposes to the tracker. */
export interface Leased {
  /** Epoch ms (on the tracker's clock) at which the lease lapses; written by the tracker. */
  leaseUntil: number
  /** Settled or released: the lease no longer matters. */
  readonly leaseEnded: boolean
}

interface Entry<T> {
  readonly item: T
  readonly until: number
}

/**
 * Leases of one subscription for transports whose broker does not time deliveries out by itself
 * (the memory transport; RabbitMQ, where an open channel holds messages for ever). Every lease has
 * the same length, so lapses come in the order leases were taken or renewed: a FIFO with lazy
 * removal and one timer, no timer and no Set per delivery.
 */
export class LeaseTracker<T extends Leased> {
  private readonly entries = new Queue<Entry<T>>()
  private timer: unknown
  private stopped = false

  constructor(
    private readonly leaseMs: number,
    private readonly onLapse: (item: T) => void,
    private readonly clock: LeaseClock = SYSTEM_LEASE_CLOCK,
  ) {}

  /** Start (or renew) the lease of `item`. */
  hold(item: T): void {
    if (this.stopped) return
    const until = this.clock.now() + this.leaseMs
    item.leaseUntil = until
    this.entries.push({ item, until })
    if (this.timer === undefined) this.arm(this.leaseMs)
  }

  /** Stop watching: nothing lapses after this. */
  stop(): void {
    this.stopped = true
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer)
    this.timer = undefined
  }

  private arm(delayMs: number): void {
    this.timer = this.clock.setTimeout(this.sweep, Math.max(1, Math.ceil(delayMs)))
  }

  private readonly sweep = (): void => {
    this.timer = undefined
    const now = this.clock.now()
    for (;;) {
      const head = this.entries.shift()
      if (!head) return
      // Settled, or renewed since this entry was written (a newer entry stands further back).
      if (head.item.leaseEnded || head.item.leaseUntil !== head.until) continue
      if (head.until > now) {
        this.entries.unshift(head)
        this.arm(head.until - now)
        return
      }
      this.onLapse(head.item)
    }
  }
}

/** The part of a clock leases need (core's Clock and the testkit's ManualClock both fit). */
export interface LeaseClock {
  now(): number
  setTimeout(callback: () => void, delayMs: number): unknown
  clearTimeout(handle: unknown): void
}

const SYSTEM_LEASE_CLOCK: LeaseClock = {
  now: () => Date.now(),
  setTimeout: (callback, delayMs) => {
    const handle = setTimeout(callback, delayMs)
    handle.unref()
    return handle
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
}
