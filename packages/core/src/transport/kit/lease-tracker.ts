import { type Clock, systemClock } from '../../time/clock.js'
import { ExpiryQueue } from '../../util/expiry-queue.js'

/** What a lease-holding delivery exposes to the tracker. */
export interface Leased {
  /** Epoch ms (on the tracker's clock) at which the lease lapses; written by the tracker. */
  leaseUntil: number
  /** Settled or released: the lease no longer matters. */
  readonly leaseEnded: boolean
}

/**
 * Leases of one subscription for transports whose broker does not time deliveries out by itself
 * (the memory transport; RabbitMQ, where an open channel holds messages for ever). Every lease has
 * the same length, so lapses come in the order leases were taken or renewed: one FIFO and one
 * timer, no timer and no Set per delivery.
 */
export class LeaseTracker<T extends Leased> {
  private readonly leases: ExpiryQueue<T>

  constructor(
    private readonly leaseMs: number,
    onLapse: (item: T) => void,
    private readonly clock: Clock = systemClock,
  ) {
    // Renewed since (a newer entry stands behind) or settled: this entry no longer matters.
    this.leases = new ExpiryQueue<T>(clock, (item, at) => item.leaseEnded || item.leaseUntil !== at, onLapse)
  }

  /** Start (or renew) the lease of `item`. */
  hold(item: T): void {
    const until = this.clock.now() + this.leaseMs
    item.leaseUntil = until
    this.leases.add(item, until)
  }

  /** Stop watching: nothing lapses after this. */
  stop(): void {
    this.leases.stop()
  }
}
