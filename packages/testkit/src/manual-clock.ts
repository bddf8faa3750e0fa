import type { Clock } from '@tidings/core'
import { TimerLoopError } from './errors.js'

interface Timer {
  readonly id: number
  readonly dueAt: number
  readonly delayMs: number
  readonly callback: () => void
  /**
   * How many times in a row this callback, while running, scheduled itself again with the same
   * delay: 2 or more makes it an interval (a running bus renews leases that way), which
   * runAllTimers() lets fire as time passes but does not wait to run out.
   */
  readonly repeats: number
}

/** A callback that keeps scheduling itself at one instant more often than this is a loop, not work. */
const MAX_TIMERS_AT_ONE_INSTANT = 10_000
const REPEATS_OF_AN_INTERVAL = 2

export interface RunAllTimersOptions {
  /** Timers (intervals not counted) that may fire before runAllTimers() gives up with TimerLoopError (default 1000). */
  readonly maxTimers?: number
}

/**
 * A clock that moves only when the test says so: retry delays of minutes pass in microseconds.
 * Give it to `new MemoryBroker({ clock })` (createTestBus does that for you).
 *
 * Every way of moving it fires due timers in due order, and between two timers lets pending promise
 * callbacks run, so handlers triggered by one timer can schedule the next.
 */
export class ManualClock implements Clock {
  private current: number
  private timers: Timer[] = []
  private nextId = 1
  private firing: Timer | undefined

  constructor(start = Date.parse('2026-01-01T00:00:00Z')) {
    this.current = start
  }

  now(): number {
    return this.current
  }

  setTimeout(callback: () => void, delayMs: number): unknown {
    // As before: an infinite delay never comes due; a delay that is not a number is due now.
    const delay = Number.isNaN(delayMs) ? 0 : Math.max(0, delayMs)
    const firing = this.firing
    const repeats =
      firing !== undefined && firing.callback === callback && firing.delayMs === delay
        ? firing.repeats + 1
        : 0
    const timer = { id: this.nextId++, dueAt: this.current + delay, delayMs: delay, callback, repeats }
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

  /** Milliseconds until the earliest pending timer is due (0 when one is due now), or undefined when none is pending. */
  get nextTimerDueIn(): number | undefined {
    const next = this.earliest(Number.POSITIVE_INFINITY)
    return next === undefined ? undefined : Math.max(0, next.dueAt - this.current)
  }

  /** Move time forward by `ms`, firing every timer due by then, in due order. */
  async advance(ms: number): Promise<void> {
    await this.fireUntil(this.current + Math.max(0, ms))
  }

  /** Fire the timers due now (a delay of 0 included) without moving time; resolves with how many fired. */
  runDue(): Promise<number> {
    return this.fireUntil(this.current)
  }

  /**
   * Move time to the earliest pending timer and fire everything due then. Resolves with the
   * milliseconds time moved, or undefined when no timer was pending (time stays put).
   */
  async advanceToNextTimer(): Promise<number | undefined> {
    await flushMicrotasks()
    const next = this.earliest(Number.POSITIVE_INFINITY)
    if (next === undefined) return undefined
    const movedMs = Math.max(0, next.dueAt - this.current)
    await this.fireUntil(next.dueAt)
    return movedMs
  }

  /**
   * Move time forward until no timer is pending but intervals (callbacks that keep rescheduling
   * themselves with the same delay, such as a running bus's lease renewal): every retry, deadline
   * and delay fires, and each timer they schedule in turn. Intervals fire as time passes them.
   * Resolves with how many timers fired (intervals not counted); throws TimerLoopError after
   * `maxTimers` of them, since a chain that long never ends on its own.
   */
  async runAllTimers(options: RunAllTimersOptions = {}): Promise<number> {
    const maxTimers = options.maxTimers ?? 1000
    let fired = 0
    for (;;) {
      await flushMicrotasks()
      const next = this.earliest(Number.POSITIVE_INFINITY, (timer) => !isInterval(timer))
      if (next === undefined) return fired
      fired += await this.fireUntil(next.dueAt)
      if (fired > maxTimers) {
        throw new TimerLoopError(
          `runAllTimers() fired ${fired.toLocaleString('en-US')} timers and more keep being scheduled (${this.timers.length} pending, the next due in ${(this.nextTimerDueIn ?? 0).toLocaleString('en-US')} ms): something reschedules itself without end. Move time with advance(ms) or advanceToNextTimer() instead, or pass runAllTimers({ maxTimers }) if that many are expected.`,
        )
      }
    }
  }

  /** Fires every timer due at or before `target` in due order, then sets the time to `target`; counts the non-intervals. */
  private async fireUntil(target: number): Promise<number> {
    let fired = 0
    let atThisInstant = 0
    for (;;) {
      await flushMicrotasks()
      const next = this.earliest(target)
      if (next === undefined) break
      this.timers = this.timers.filter((timer) => timer !== next)
      if (next.dueAt > this.current) {
        this.current = next.dueAt
        atThisInstant = 0
      }
      atThisInstant += 1
      if (atThisInstant > MAX_TIMERS_AT_ONE_INSTANT) {
        throw new TimerLoopError(
          `${MAX_TIMERS_AT_ONE_INSTANT.toLocaleString('en-US')} timers fired at one instant (${new Date(this.current).toISOString()}) and more are due: a callback keeps scheduling itself with a delay of 0, so time can never move on. Give that timer a delay.`,
        )
      }
      this.fire(next)
      if (!isInterval(next)) fired += 1
    }
    this.current = Math.max(this.current, target)
    await flushMicrotasks()
    return fired
  }

  private fire(timer: Timer): void {
    this.firing = timer
    try {
      timer.callback()
    } finally {
      this.firing = undefined
    }
  }

  private earliest(notAfter: number, which: (timer: Timer) => boolean = () => true): Timer | undefined {
    let best: Timer | undefined
    for (const timer of this.timers) {
      if (timer.dueAt > notAfter || !Number.isFinite(timer.dueAt) || !which(timer)) continue
      if (
        best === undefined ||
        timer.dueAt < best.dueAt ||
        (timer.dueAt === best.dueAt && timer.id < best.id)
      ) {
        best = timer
      }
    }
    return best
  }
}

function isInterval(timer: Timer): boolean {
  return timer.repeats >= REPEATS_OF_AN_INTERVAL
}

/** Lets queued promise callbacks and immediates run (handlers, acks, dispatch). */
export async function flushMicrotasks(rounds = 3): Promise<void> {
  for (let i = 0; i < rounds; i += 1) await new Promise<void>((resolve) => setImmediate(resolve))
}
