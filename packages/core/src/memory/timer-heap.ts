import type { Clock } from '../time/clock.js'

interface Entry {
  readonly dueAt: number
  readonly order: number
  readonly fire: () => void
}

/**
 * Many pending delays on ONE clock timer: a binary min-heap by due time. Each delay fires on its
 * own due time, so a long delay never holds back a short one (no head-of-line blocking), and
 * 100,000 pending retries cost a heap, not 100,000 timers.
 */
export class TimerHeap {
  private readonly heap: Entry[] = []
  private order = 0
  private armedFor = Number.POSITIVE_INFINITY
  private handle: unknown

  constructor(private readonly clock: Clock) {}

  get size(): number {
    return this.heap.length
  }

  schedule(delayMs: number, fire: () => void): void {
    const entry = { dueAt: this.clock.now() + delayMs, order: this.order++, fire }
    this.push(entry)
    if (entry.dueAt < this.armedFor) this.arm()
  }

  clear(): void {
    this.heap.length = 0
    this.disarm()
  }

  private readonly onTimer = (): void => {
    this.armedFor = Number.POSITIVE_INFINITY
    this.handle = undefined
    const now = this.clock.now()
    while (this.heap.length > 0 && this.heap[0]!.dueAt <= now) this.pop().fire()
    if (this.heap.length > 0) this.arm()
  }

  private arm(): void {
    this.disarm()
    const next = this.heap[0]!
    this.armedFor = next.dueAt
    this.handle = this.clock.setTimeout(this.onTimer, Math.max(0, next.dueAt - this.clock.now()))
  }

  private disarm(): void {
    if (this.handle !== undefined) this.clock.clearTimeout(this.handle)
    this.handle = undefined
    this.armedFor = Number.POSITIVE_INFINITY
  }

  private push(entry: Entry): void {
    const heap = this.heap
    heap.push(entry)
    let index = heap.length - 1
    while (index > 0) {
      const parent = (index - 1) >> 1
      if (!before(heap[index]!, heap[parent]!)) break
      ;[heap[index], heap[parent]] = [heap[parent]!, heap[index]!]
      index = parent
    }
  }

  private pop(): Entry {
    const heap = this.heap
    const top = heap[0]!
    const last = heap.pop()!
    if (heap.length > 0) {
      heap[0] = last
      let index = 0
      for (;;) {
        const left = index * 2 + 1
        const right = left + 1
        let smallest = index
        if (left < heap.length && before(heap[left]!, heap[smallest]!)) smallest = left
        if (right < heap.length && before(heap[right]!, heap[smallest]!)) smallest = right
        if (smallest === index) break
        ;[heap[index], heap[smallest]] = [heap[smallest]!, heap[index]!]
        index = smallest
      }
    }
    return top
  }
}

function before(a: Entry, b: Entry): boolean {
  return a.dueAt < b.dueAt || (a.dueAt === b.dueAt && a.order < b.order)
}
