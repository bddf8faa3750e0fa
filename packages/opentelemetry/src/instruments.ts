import type { Counter, Histogram, Meter } from '@opentelemetry/api'

/** The metrics of the messaging conventions, plus what only an event bus with retries knows. */
export interface Instruments {
  readonly sent: Counter
  readonly consumed: Counter
  readonly processDuration: Histogram
  readonly retries: Counter
  readonly deadLetters: Counter
  readonly duplicates: Counter
}

export function createInstruments(meter: Meter): Instruments {
  return {
    sent: meter.createCounter('messaging.client.sent.messages', {
      description: 'Events published and accepted by the broker.',
      unit: '{message}',
    }),
    consumed: meter.createCounter('messaging.client.consumed.messages', {
      description: 'Handling attempts started by this process.',
      unit: '{message}',
    }),
    processDuration: meter.createHistogram('messaging.process.duration', {
      description: 'Duration of each handling attempt, from receipt to settlement.',
      unit: 's',
    }),
    retries: meter.createCounter('tidings.retries.scheduled', {
      description: 'Failed attempts given another try after a delay.',
      unit: '{message}',
    }),
    deadLetters: meter.createCounter('tidings.dead_letters', {
      description: 'Events moved to a dead-letter queue.',
      unit: '{message}',
    }),
    duplicates: meter.createCounter('tidings.duplicates.skipped', {
      description: 'Events the idempotency store already knew: acknowledged without running the handler.',
      unit: '{message}',
    }),
  }
}
