import { type Clock, systemClock } from '../time/clock.js'
import { Queue } from '../util/queue.js'

interface Deadline {
  readonly at: number
  done: boolean
  readonly onExpire: () => void
}

/**
 * Handler deadlines of one listener on ONE timer. All handlers of a listener share `timeoutMs`, so
 * deadlines expire in start order: a FIFO with lazy removal is enough, and a busy listener pays no
 * setTimeout per event.
 */
export class DeadlineTracker {
  private readonly deadlines = new Queue<Deadline>()
  private handle: unknown

  constructor(
    private readonly timeoutMs: number,
    private readonly clock: Clock = systemClock,
  ) {}

  start(onExpire: () => void): Deadline {
    const deadline: Deadline = { at: this.clock.now() + this.timeoutMs, done: false, onExpire }
    this.deadlines.push(deadline)
    if (this.handle === undefined) this.arm(this.timeoutMs)
    return deadline
  }

  finish(deadline: Deadline): void {
    deadline.done = true
  }

  stop(): void {
    if (this.handle !== undefined) this.clock.clearTimeout(this.handle)
    this.handle = undefined
  }

  private arm(delayMs: number): void {
    this.handle = this.clock.setTimeout(this.expire, Math.max(1, Math.ceil(delayMs)))
  }

  private readonly expire = (): void => {
    this.handle = undefined
    const now = this.clock.now()
    for (;;) {
      const head = this.deadlines.shift()
      if (!head) return
      if (head.done) continue
      if (head.at > now) {
        this.deadlines.unshift(head)
        this.arm(head.at - now)
        return
      }
      head.done = true
      head.onExpire()
    }
  }
}
