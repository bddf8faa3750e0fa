import type { LifecycleEvents } from '@tidings/core'
import {
  type AnyEvents,
  type Bus,
  type BusOptions,
  createBus,
  type Event,
  type EventCatalogue,
  MemoryBroker,
  memoryTransport,
} from '@tidings/core'
import { ManualClock } from './manual-clock.js'
import { waitUntil } from './wait.js'

export interface Recorded {
  readonly published: Event[]
  readonly handled: LifecycleEvents['handled'][]
  readonly failed: LifecycleEvents['failed'][]
  readonly retried: LifecycleEvents['retry-scheduled'][]
  readonly deadLettered: LifecycleEvents['dead-lettered'][]
}

export type RecordKind = 'published' | 'handled' | 'failed' | 'dead-lettered'

export interface TestBus<Events extends EventCatalogue = AnyEvents> {
  readonly bus: Bus<Events>
  readonly clock: ManualClock
  readonly broker: MemoryBroker
  readonly recorded: Recorded
  /** Resolves with the first matching event of that kind (default 'handled'), or throws after `timeoutMs`. */
  waitFor(type: string, options?: { kind?: RecordKind; timeoutMs?: number; count?: number }): Promise<Event>
  /** Throws unless an event of `type` was published, whose data contains `data` (deep partial match). */
  expectPublished(type: string, data?: unknown): Event
}

/**
 * A bus on its own memory broker with a manual clock, recording everything it publishes, handles,
 * fails and dead-letters. Retry delays pass with `clock.advance(ms)`.
 */
export function createTestBus<Events extends EventCatalogue = AnyEvents>(
  options: Omit<BusOptions<Events>, 'transport' | 'url'> & { clock?: ManualClock; broker?: MemoryBroker },
): TestBus<Events> {
  const clock = options.clock ?? new ManualClock()
  const broker = options.broker ?? new MemoryBroker({ clock })
  const { clock: _clock, broker: _broker, ...busOptions } = options
  // One clock for the broker (retry delays, leases) and the bus (deadlines, lease renewal, failure times).
  const bus = createBus<Events>({ ...busOptions, clock, transport: memoryTransport({ broker }) })
  const recorded: Recorded = { published: [], handled: [], failed: [], retried: [], deadLettered: [] }
  bus.on('published', ({ event }) => recorded.published.push(event))
  bus.on('handled', (payload) => recorded.handled.push(payload))
  bus.on('failed', (payload) => recorded.failed.push(payload))
  bus.on('retry-scheduled', (payload) => recorded.retried.push(payload))
  bus.on('dead-lettered', (payload) => recorded.deadLettered.push(payload))

  const eventsOf = (kind: RecordKind): Event[] => {
    switch (kind) {
      case 'published':
        return recorded.published
      case 'handled':
        return recorded.handled.map((entry) => entry.event)
      case 'failed':
        return recorded.failed.map((entry) => entry.event)
      case 'dead-lettered':
        return recorded.deadLettered.flatMap((entry) => (entry.event ? [entry.event] : []))
    }
  }

  return {
    bus,
    clock,
    broker,
    recorded,
    waitFor: (type, waitOptions = {}) => {
      const kind = waitOptions.kind ?? 'handled'
      const count = waitOptions.count ?? 1
      return waitUntil(
        () => {
          const matching = eventsOf(kind).filter((event) => event.type === type)
          return matching.length >= count ? matching[count - 1] : undefined
        },
        {
          timeoutMs: waitOptions.timeoutMs ?? 2000,
          what: `${count} "${type}" event(s) ${kind}`,
          seen: () => {
            const types = eventsOf(kind).map((event) => event.type)
            return types.length === 0 ? `Nothing was ${kind}.` : `Seen ${kind}: ${types.join(', ')}.`
          },
        },
      )
    },
    expectPublished: (type, data) => {
      const match = recorded.published.find(
        (event) => event.type === type && (data === undefined || contains(event.data, data)),
      )
      if (!match) {
        const seen = recorded.published
          .map((event) => `${event.type} ${JSON.stringify(event.data)}`)
          .join('\n  ')
        throw new Error(
          `Expected "${type}"${data === undefined ? '' : ` with data containing ${JSON.stringify(data)}`} to be published.\nPublished:\n  ${seen || '(nothing)'}`,
        )
      }
      return match
    },
  }
}

function contains(actual: unknown, expected: unknown): boolean {
  if (expected === null || typeof expected !== 'object') return Object.is(actual, expected)
  if (actual === null || typeof actual !== 'object') return false
  if (Array.isArray(expected)) {
    return (
      Array.isArray(actual) &&
      expected.length === actual.length &&
      expected.every((item, i) => contains(actual[i], item))
    )
  }
  return Object.entries(expected).every(([key, value]) =>
    contains((actual as Record<string, unknown>)[key], value),
  )
}
