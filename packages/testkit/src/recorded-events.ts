import type { AnyEvents, Event, EventCatalogue, LifecycleEvents } from '@tidings/core'

/** The event names of a catalogue: any string on an untyped bus. */
export type EventNameOf<Events extends EventCatalogue> = keyof Events & string

/**
 * An event of the catalogue as the test bus records it: its `type` is one of the catalogue's names and
 * narrows its `data` (`if (event.type === 'order.placed') event.data.orderId`). On an untyped bus,
 * any type with unknown data.
 */
export type CatalogueEvent<
  Events extends EventCatalogue = AnyEvents,
  Name extends EventNameOf<Events> = EventNameOf<Events>,
> = { [N in Name]: Event<Events[N]> & { readonly type: N } }[Name]

/** A lifecycle payload whose event is typed by the catalogue. */
type WithCatalogueEvent<Payload, Events extends EventCatalogue> = Omit<Payload, 'event'> & {
  readonly event: CatalogueEvent<Events>
}

/** What a test bus saw, in order. */
export interface Recorded<Events extends EventCatalogue = AnyEvents> {
  readonly published: CatalogueEvent<Events>[]
  readonly handled: WithCatalogueEvent<LifecycleEvents['handled'], Events>[]
  readonly failed: WithCatalogueEvent<LifecycleEvents['failed'], Events>[]
  readonly retried: WithCatalogueEvent<LifecycleEvents['retry-scheduled'], Events>[]
  readonly deadLettered: (Omit<LifecycleEvents['dead-lettered'], 'event'> & {
    /** Undefined when the message did not decode. */
    readonly event: CatalogueEvent<Events> | undefined
  })[]
}

/** Which record `waitFor` looks in. */
export type RecordKind = 'published' | 'handled' | 'failed' | 'retry-scheduled' | 'dead-lettered'

/** What `expectPublished` matches: any part of the payload, nested objects and array items partial too. */
export type DeepPartial<T> = T extends readonly (infer Item)[]
  ? readonly DeepPartial<Item>[]
  : T extends object
    ? { readonly [Key in keyof T]?: DeepPartial<T[Key]> }
    : T

export function emptyRecord<Events extends EventCatalogue>(): Recorded<Events> {
  return { published: [], handled: [], failed: [], retried: [], deadLettered: [] }
}

export function eventsOf<Events extends EventCatalogue>(
  recorded: Recorded<Events>,
  kind: RecordKind,
): CatalogueEvent<Events>[] {
  switch (kind) {
    case 'published':
      return recorded.published
    case 'handled':
      return recorded.handled.map((entry) => entry.event)
    case 'failed':
      return recorded.failed.map((entry) => entry.event)
    case 'retry-scheduled':
      return recorded.retried.map((entry) => entry.event)
    case 'dead-lettered':
      return recorded.deadLettered.flatMap((entry) => (entry.event ? [entry.event] : []))
  }
}

/** Deep partial match: every key of `expected` is in `actual` with a matching value; arrays match item by item. */
export function containsPartially(actual: unknown, expected: unknown): boolean {
  if (expected === null || typeof expected !== 'object') return Object.is(actual, expected)
  if (actual === null || typeof actual !== 'object') return false
  if (Array.isArray(expected)) {
    return (
      Array.isArray(actual) &&
      expected.length === actual.length &&
      expected.every((item, i) => containsPartially(actual[i], item))
    )
  }
  return Object.entries(expected).every(([key, value]) =>
    containsPartially((actual as Record<string, unknown>)[key], value),
  )
}
