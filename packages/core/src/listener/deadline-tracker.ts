import { type Clock, systemClock } from '../time/clock.js'
import { ExpiryQueue } from '../util/expiry-queue.js'

interface Deadline {
  done: boolean
  readonly onExpire: () => void
}

/** Handler deadlines of one listener on ONE timer: all handlers of a listener share `timeoutMs`. */
export class DeadlineTracker {
  private readonly deadlines: ExpiryQueue<Deadline>

  constructor(
    private readonly timeoutMs: number,
    private readonly clock: Clock = systemClock,
  ) {
    this.deadlines = new ExpiryQueue<Deadline>(
      clock,
      (deadline) => deadline.done,
      (deadline) => {
        deadline.done = true
        deadline.onExpire()
      },
    )
  }

  start(onExpire: () => void): Deadline {
    const deadline: Deadline = { done: false, onExpire }
    this.deadlines.add(deadline, this.clock.now() + this.timeoutMs)
    return deadline
  }

  finish(deadline: Deadline): void {
    deadline.done = true
  }

  stop(): void {
    this.deadlines.stop()
  }
}
