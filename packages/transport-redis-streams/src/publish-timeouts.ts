import { performance } from 'node:perf_hooks'

/** A publish waiting for Redis' acceptance, as the timeouts see it. */
export interface TimedPublish {
  /** True once accepted, refused or expired: the timeouts then drop it. */
  readonly settled: boolean
  /** When it expires (performance.now() milliseconds); set by PublishTimeouts.add. */
  due: number
  /** Called once, when `timeoutMs` passed before it settled. */
  expire(): void
}

/**
 * publishTimeoutMs for every publish in flight, with ONE timer (not core's handler DeadlineTracker:
 * this bounds how long publish() waits for Redis to accept an XADD).
 *
 * Every publish gets the same timeout, so publishes expire in the order they were sent: a FIFO whose
 * front is the next to expire, one timer armed for that front, and publishes that settled in time
 * dropped from the front as new ones come (Redis replies in order, so they settle in order too).
 * A timer per publish, or a sweep over a set, would cost more than the XADD itself at high rates.
 */
export class PublishTimeouts<Entry extends TimedPublish> {
  private entries: Entry[] = []
  private head = 0
  private timer: NodeJS.Timeout | undefined

  constructor(private readonly timeoutMs: number) {}

  add(entry: Entry): void {
    this.dropSettled()
    entry.due = performance.now() + this.timeoutMs
    this.entries.push(entry)
    if (this.timer === undefined) this.arm(this.timeoutMs)
  }

  /** Publishes not yet dropped (settled ones behind the front linger until the front moves). */
  get size(): number {
    return this.entries.length - this.head
  }

  private dropSettled(): void {
    const entries = this.entries
    let head = this.head
    while (head < entries.length && entries[head]!.settled) head += 1
    if (head === entries.length) {
      // All settled: start over (the common case, so the array never grows under steady traffic).
      if (head > 0) this.entries = []
      this.head = 0
    } else if (head > 1024 && head * 2 > entries.length) {
      this.entries = entries.slice(head)
      this.head = 0
    } else {
      this.head = head
    }
  }

  private arm(delayMs: number): void {
    this.timer = setTimeout(this.expire, Math.max(1, Math.ceil(delayMs)))
    // A publish that waits for Redis must not keep the process alive on its own.
    this.timer.unref()
  }

  private readonly expire = (): void => {
    this.timer = undefined
    const now = performance.now()
    this.dropSettled()
    const entries = this.entries
    while (this.head < entries.length) {
      const entry = entries[this.head]!
      if (!entry.settled) {
        if (entry.due > now) {
          this.arm(entry.due - now)
          return
        }
        entry.expire()
      }
      this.head += 1
    }
    this.entries = []
    this.head = 0
  }
}
