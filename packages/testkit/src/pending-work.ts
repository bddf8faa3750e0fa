import type { Bus } from '@tidings/core'
import type { ManualClock } from './manual-clock.js'

interface PendingRetry {
  readonly type: string
  readonly group: string
  readonly attempt: number
  readonly dueAt: number
}

interface RunningHandler {
  readonly type: string
  readonly group: string
  readonly attempt: number
}

const LISTED = 5

/**
 * What a test bus is still waiting on, from its lifecycle events: retries scheduled but not yet
 * delivered (due at clock time) and handlers that started and have not finished. A `waitFor` that
 * times out says it, so "the retry is due in 1,180 ms of clock time" replaces a bare timeout.
 */
export class PendingWork {
  private readonly retries = new Map<string, PendingRetry>()
  private readonly running = new Map<string, RunningHandler>()

  constructor(
    bus: Pick<Bus, 'on'>,
    private readonly clock: ManualClock,
  ) {
    bus.on('retry-scheduled', ({ event, group, nextAttempt, delayMs }) => {
      // Emitted once the transport holds the retry, on the clock it was scheduled with.
      this.retries.set(key(group, event.id, nextAttempt), {
        type: event.type,
        group,
        attempt: nextAttempt,
        dueAt: clock.now() + delayMs,
      })
    })
    bus.on('received', ({ event, group, attempt }) => {
      this.retries.delete(key(group, event.id, attempt))
      this.running.set(key(group, event.id), { type: event.type, group, attempt })
    })
    const finished = ({ event, group }: { event: { id: string }; group: string }): void => {
      this.running.delete(key(group, event.id))
    }
    bus.on('handled', finished)
    bus.on('failed', finished)
    bus.on('duplicate-skipped', finished)
  }

  /** Sentences for a timeout message; empty when nothing is pending anywhere. */
  describe(): string {
    const now = this.clock.now()
    const sentences: string[] = []
    const retries = [...this.retries.values()].sort((a, b) => a.dueAt - b.dueAt)
    for (const retry of retries.slice(0, LISTED)) {
      const dueIn = retry.dueAt - now
      sentences.push(
        `A retry of ${retry.type} (attempt ${retry.attempt} in ${retry.group}) is due ${
          dueIn > 0
            ? `in ${formatMs(dueIn)} of clock time: call clock.advance(${dueIn}) or clock.advanceToNextTimer()`
            : 'now: call clock.runDue()'
        }.`,
      )
    }
    if (retries.length > LISTED) sentences.push(`${retries.length - LISTED} more retries are scheduled.`)
    const running = [...this.running.values()]
    for (const handler of running.slice(0, LISTED)) {
      sentences.push(
        `A handler of ${handler.type} (attempt ${handler.attempt} in ${handler.group}) is still running.`,
      )
    }
    if (running.length > LISTED) sentences.push(`${running.length - LISTED} more handlers are running.`)
    if (retries.length === 0) {
      const nextDueIn = this.clock.nextTimerDueIn
      sentences.push(
        nextDueIn === undefined
          ? 'No timer is pending on the clock.'
          : `The clock has ${this.clock.pending} timer(s) pending, the next due in ${formatMs(nextDueIn)} (deadlines, lease renewal, delays).`,
      )
    }
    return sentences.join(' ')
  }
}

function key(group: string, id: string, attempt?: number): string {
  return attempt === undefined ? `${group}\u0000${id}` : `${group}\u0000${id}\u0000${attempt}`
}

function formatMs(ms: number): string {
  return `${ms.toLocaleString('en-US')} ms`
}
