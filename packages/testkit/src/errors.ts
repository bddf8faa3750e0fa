import { TidingsError } from '@tidings/core'

/** A test waited for something that did not happen; the message says what was seen and what is pending. */
export class WaitForTimeoutError extends TidingsError {
  constructor(what: string, timeoutMs: number, seen: string) {
    super(
      'TIDINGS_WAIT_TIMEOUT',
      `Timed out after ${timeoutMs} ms waiting for ${what}.${seen ? ` ${seen}` : ''}`,
    )
  }
}

/**
 * The manual clock kept firing timers without running out: something reschedules itself forever
 * (a timer of 0 ms that sets another, or a chain that never ends), so running "all" of them would hang.
 */
export class TimerLoopError extends TidingsError {
  constructor(message: string) {
    super('TIDINGS_TIMER_LOOP', message)
  }
}

/** `expectPublished` found no published event of the type with matching data; the message lists what was published. */
export class ExpectPublishedError extends TidingsError {
  constructor(message: string) {
    super('TIDINGS_EXPECT_PUBLISHED', message)
  }
}
