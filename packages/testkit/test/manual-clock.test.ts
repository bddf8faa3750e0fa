import { ManualClock, TimerLoopError } from '@tidings/testkit'
import { describe, expect, it } from 'vitest'

describe('ManualClock', () => {
  it('runDue() fires what is due now, and what that schedules for now, without moving time', async () => {
    const clock = new ManualClock()
    const start = clock.now()
    const fired: string[] = []
    clock.setTimeout(() => {
      fired.push('first')
      clock.setTimeout(() => fired.push('scheduled by first'), 0)
    }, 0)
    clock.setTimeout(() => fired.push('later'), 1)
    expect(await clock.runDue()).toBe(2)
    expect(fired).toEqual(['first', 'scheduled by first'])
    expect(clock.now()).toBe(start)
    expect(clock.pending).toBe(1)
  })

  it('advanceToNextTimer() moves to the earliest timer, fires everything due then, and says how far it moved', async () => {
    const clock = new ManualClock()
    const start = clock.now()
    const fired: string[] = []
    clock.setTimeout(() => fired.push('b'), 500)
    clock.setTimeout(() => fired.push('a'), 200)
    clock.setTimeout(() => fired.push('a too'), 200)
    expect(clock.nextTimerDueIn).toBe(200)
    expect(await clock.advanceToNextTimer()).toBe(200)
    expect(fired).toEqual(['a', 'a too'])
    expect(clock.now()).toBe(start + 200)
    expect(await clock.advanceToNextTimer()).toBe(300)
    expect(fired).toEqual(['a', 'a too', 'b'])
    expect(await clock.advanceToNextTimer()).toBeUndefined()
    expect(clock.nextTimerDueIn).toBeUndefined()
    expect(clock.now()).toBe(start + 500)
  })

  it('runAllTimers() runs each timer and every timer they schedule in turn, in due order', async () => {
    const clock = new ManualClock()
    const start = clock.now()
    const fired: number[] = []
    const retry = (attempt: number): void => {
      fired.push(clock.now() - start)
      if (attempt < 5) clock.setTimeout(() => retry(attempt + 1), 1000 * 2 ** (attempt - 1))
    }
    clock.setTimeout(() => retry(1), 0)
    // A promise between two timers, as a handler's await is, still schedules the next in time.
    clock.setTimeout(
      () => void Promise.resolve().then(() => clock.setTimeout(() => fired.push(-1), 1)),
      50_000,
    )
    expect(await clock.runAllTimers()).toBe(7)
    expect(fired).toEqual([0, 1000, 3000, 7000, 15_000, -1])
    expect(clock.pending).toBe(0)
  })

  it('runAllTimers() lets an interval fire as time passes but does not wait for it to run out', async () => {
    const clock = new ManualClock()
    const start = clock.now()
    let renewals = 0
    const renew = (): void => {
      clock.setTimeout(renew, 20_000) // as a running bus renews leases
      renewals += 1
    }
    clock.setTimeout(renew, 20_000)
    let retried = false
    clock.setTimeout(() => {
      retried = true
    }, 90_000)
    await clock.runAllTimers()
    expect(retried).toBe(true)
    expect(clock.now()).toBe(start + 90_000)
    expect(renewals).toBe(4)
    expect(clock.pending).toBe(1) // the interval, still there
  })

  it('runAllTimers() gives up with TimerLoopError on a chain that never ends', async () => {
    const clock = new ManualClock()
    let delay = 1
    const again = (): void => {
      delay += 1
      clock.setTimeout(again, delay)
    }
    clock.setTimeout(again, delay)
    const failure = await clock.runAllTimers({ maxTimers: 50 }).catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(TimerLoopError)
    expect((failure as TimerLoopError).code).toBe('TIDINGS_TIMER_LOOP')
    expect((failure as Error).message).toMatch(/fired 51 timers and more keep being scheduled.*maxTimers/)
  })

  it('stops a timer that reschedules itself at 0 ms instead of hanging the test', async () => {
    const clock = new ManualClock()
    const again = (): void => {
      clock.setTimeout(again, 0)
    }
    clock.setTimeout(again, 0)
    await expect(clock.runDue()).rejects.toThrow(/10,000 timers fired at one instant.*delay of 0/)
  })

  it('never fires a timer of infinite delay, and never moves time to it', async () => {
    const clock = new ManualClock()
    const start = clock.now()
    let fired = false
    clock.setTimeout(() => {
      fired = true
    }, Number.POSITIVE_INFINITY)
    expect(await clock.advanceToNextTimer()).toBeUndefined()
    expect(await clock.runAllTimers()).toBe(0)
    await clock.advance(365 * 86_400_000)
    expect(fired).toBe(false)
    expect(clock.now()).toBe(start + 365 * 86_400_000)
  })
})
