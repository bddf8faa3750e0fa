import { Queue } from '../memory/queue.js'

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
  private handle: NodeJS.Timeout | undefined

  constructor(private readonly timeoutMs: number) {}

  start(onExpire: () => void): Deadline {
    const deadline: Deadline = { at: performance.now() + this.timeoutMs, done: false, onExpire }
    this.deadlines.push(deadline)
    if (this.handle === undefined) this.arm(this.timeoutMs)
    return deadline
  }

  finish(deadline: Deadline): void {
    deadline.done = true
  }

  stop(): void {
    if (this.handle !== undefined) clearTimeout(this.handle)
    this.handle = undefined
  }

  private arm(delayMs: number): void {
    this.handle = setTimeout(this.expire, Math.max(1, Math.ceil(delayMs)))
    this.handle.unref()
  }

  private readonly expire = (): void => {
    this.handle = undefined
    const now = performance.now()
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
