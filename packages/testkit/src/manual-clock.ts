import type { Clock } from '@tidings/core'

interface Timer {
  readonly id: number
  readonly dueAt: number
  readonly callback: () => void
}

/**
 * A clock that moves only when the test says so: retry delays of minutes pass in microseconds.
 * Give it to `new MemoryBroker({ clock })` (createTestBus does that for you).
 */
export class ManualClock implements Clock {
  private current: number
  private timers: Timer[] = []
  private nextId = 1

  constructor(start = Date.parse('2026-01-01T00:00:00Z')) {
    this.current = start
  }

  now(): number {
    return this.current
  }

  setTimeout(callback: () => void, delayMs: number): unknown {
    const timer = { id: this.nextId++, dueAt: this.current + Math.max(0, delayMs), callback }
    this.timers.push(timer)
    return timer.id
  }

  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((timer) => timer.id !== handle)
  }

  /** Timers waiting to fire. */
  get pending(): number {
    return this.timers.length
  }

  /**
   * Move time forward by `ms`, firing due timers in order; between timers, pending promise
   * callbacks run, so handlers triggered by one timer can schedule the next.
   */
  async advance(ms: number): Promise<void> {
    const target = this.current + ms
    for (;;) {
      await flushMicrotasks()
      const next = this.timers
        .filter((timer) => timer.dueAt <= target)
        .sort((a, b) => a.dueAt - b.dueAt || a.id - b.id)[0]
      if (!next) break
      this.timers = this.timers.filter((timer) => timer !== next)
      this.current = Math.max(this.current, next.dueAt)
      next.callback()
    }
    this.current = target
    await flushMicrotasks()
  }
}

/** Lets queued promise callbacks and immediates run (handlers, acks, dispatch). */
export async function flushMicrotasks(rounds = 3): Promise<void> {
  for (let i = 0; i < rounds; i += 1) await new Promise<void>((resolve) => setImmediate(resolve))
}
