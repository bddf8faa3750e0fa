import {
  type AnyEvents,
  type Bus,
  type BusOptions,
  createBus,
  type EventCatalogue,
  MemoryBroker,
  memoryTransport,
} from '@tidings/core'
import { deterministicDefaults } from './deterministic-retries.js'
import { ExpectPublishedError } from './errors.js'
import { ManualClock } from './manual-clock.js'
import { PendingWork } from './pending-work.js'
import {
  type CatalogueEvent,
  containsPartially,
  type DeepPartial,
  type EventNameOf,
  emptyRecord,
  eventsOf,
  type Recorded,
  type RecordKind,
} from './recorded-events.js'
import { waitUntil } from './wait.js'

export interface WaitForOptions {
  /** Which record to look in (default 'handled'). */
  readonly kind?: RecordKind
  /** Real time to wait before failing with what was seen and what is pending (default 2000). */
  readonly timeoutMs?: number
  /** Wait for the count-th matching event (default 1). */
  readonly count?: number
}

export interface TestBusOptions<Events extends EventCatalogue = AnyEvents>
  extends Omit<BusOptions<Events>, 'transport' | 'url'> {
  /** The clock of the bus and its broker (default a new ManualClock). */
  readonly clock?: ManualClock | undefined
  /** Share a broker between test buses (default a new one on `clock`). */
  readonly broker?: MemoryBroker | undefined
  /**
   * Keep core's ±20 % jitter on the default back-off (default false: the first retry is due after
   * exactly 1000 ms of clock time, the next after 2000, …). A back-off you give is used as given.
   */
  readonly jitter?: boolean | undefined
}

/**
 * A bus on a memory broker and a ManualClock. `Events` types the helpers as it types the bus: an
 * unknown event name is a type error and the payload is the catalogue's.
 */
export interface TestBus<Events extends EventCatalogue = AnyEvents> {
  readonly bus: Bus<Events>
  readonly clock: ManualClock
  readonly broker: MemoryBroker
  readonly recorded: Recorded<Events>
  /**
   * Resolves with the first (or count-th) event of `type` of that kind (default 'handled'); throws
   * WaitForTimeoutError after `timeoutMs` of real time, saying what was seen and what is pending
   * (a retry due in so many ms of clock time, a handler still running).
   */
  waitFor<Name extends EventNameOf<Events>>(
    type: Name,
    options?: WaitForOptions,
  ): Promise<CatalogueEvent<Events, Name>>
  /** Throws unless an event of `type` was published, whose data contains `data` (deep partial match). */
  expectPublished<Name extends EventNameOf<Events>>(
    type: Name,
    data?: DeepPartial<Events[Name]>,
  ): CatalogueEvent<Events, Name>
}

/**
 * A bus on its own memory broker with a manual clock, recording everything it publishes, handles,
 * fails, retries and dead-letters. Retry delays pass with `clock.advance(ms)`, `advanceToNextTimer()`
 * or `runAllTimers()`, and are exact: the default back-off has no jitter here unless asked for.
 */
export function createTestBus<Events extends EventCatalogue = AnyEvents>(
  options: TestBusOptions<Events>,
): TestBus<Events> {
  const { clock: givenClock, broker: givenBroker, jitter = false, ...busOptions } = options
  const clock = givenClock ?? new ManualClock()
  const broker = givenBroker ?? new MemoryBroker({ clock })
  // One clock for the broker (retry delays, leases) and the bus (deadlines, lease renewal, failure times).
  const bus = createBus<Events>({
    ...busOptions,
    defaults: deterministicDefaults(busOptions.defaults, jitter),
    clock,
    transport: memoryTransport({ broker }),
  })
  const recorded = emptyRecord<Events>()
  // The bus emits events of its catalogue; lifecycle payloads type them as plain Events.
  type Typed<Payload> = Payload & { event: CatalogueEvent<Events> }
  bus.on('published', ({ event }) => recorded.published.push(event as CatalogueEvent<Events>))
  bus.on('handled', (payload) => recorded.handled.push(payload as Typed<typeof payload>))
  bus.on('failed', (payload) => recorded.failed.push(payload as Typed<typeof payload>))
  bus.on('retry-scheduled', (payload) => recorded.retried.push(payload as Typed<typeof payload>))
  bus.on('dead-lettered', (payload) =>
    recorded.deadLettered.push(payload as Recorded<Events>['deadLettered'][number]),
  )
  const pending = new PendingWork(bus, clock)

  return {
    bus,
    clock,
    broker,
    recorded,
    waitFor: <Name extends EventNameOf<Events>>(type: Name, waitOptions: WaitForOptions = {}) => {
      const kind = waitOptions.kind ?? 'handled'
      const count = waitOptions.count ?? 1
      return waitUntil(
        () => {
          const matching = eventsOf(recorded, kind).filter((event) => event.type === type)
          return matching.length >= count ? (matching[count - 1] as CatalogueEvent<Events, Name>) : undefined
        },
        {
          timeoutMs: waitOptions.timeoutMs ?? 2000,
          what: `${count} "${type}" event(s) ${kind}`,
          seen: () => {
            const types = eventsOf(recorded, kind).map((event) => event.type)
            const seen = types.length === 0 ? `Nothing was ${kind}.` : `Seen ${kind}: ${types.join(', ')}.`
            return `${seen} ${pending.describe()}`.trim()
          },
        },
      )
    },
    expectPublished: <Name extends EventNameOf<Events>>(type: Name, data?: DeepPartial<Events[Name]>) => {
      const match = recorded.published.find(
        (event) => event.type === type && (data === undefined || containsPartially(event.data, data)),
      )
      if (!match) {
        const seen = recorded.published
          .map((event) => `${event.type} ${JSON.stringify(event.data)}`)
          .join('\n  ')
        throw new ExpectPublishedError(
          `Expected "${type}"${data === undefined ? '' : ` with data containing ${JSON.stringify(data)}`} to be published.\nPublished:\n  ${seen || '(nothing)'}`,
        )
      }
      return match as CatalogueEvent<Events, Name>
    },
  }
}
