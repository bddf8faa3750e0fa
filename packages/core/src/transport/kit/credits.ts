/**
 * How many messages one consumer (a group's events, or its retries) may have in the process:
 * requested from the broker and not yet arrived, plus handed to core and not yet settled. Asking the
 * broker only for free credits is what bounds the deliveries core holds (G9) without a second gate
 * in the adapter. Any number of receivers may wait: each wakes when credits free or on `wake()`.
 */
export class Credits {
  private requested = 0
  private held = 0
  private readonly waiting = new Set<() => void>()

  constructor(readonly capacity: number) {}

  get free(): number {
    return this.capacity - this.requested - this.held
  }

  get idle(): boolean {
    return this.requested === 0 && this.held === 0
  }

  /** Resolves once at least `minimum` credits are free (or at once when the lane holds nothing). */
  async waitFor(minimum: number, stopped: () => boolean): Promise<void> {
    while (!stopped() && this.free < minimum && !(this.idle && this.free > 0)) {
      await new Promise<void>((resolve) => this.waiting.add(resolve))
    }
  }

  request(count: number): void {
    this.requested += count
  }

  /** A requested message arrived: it is held until `settled()`, or was dealt with at once. */
  arrived(kept: boolean): void {
    this.requested -= 1
    if (kept) this.held += 1
    else this.wake()
  }

  /** The server will send no more for this request. */
  unfilled(count: number): void {
    this.requested -= count
    this.wake()
  }

  settled(): void {
    this.held -= 1
    this.wake()
  }

  /** Ends every wait (stop). */
  wake(): void {
    for (const resolve of [...this.waiting]) {
      this.waiting.delete(resolve)
      resolve()
    }
  }
}
