import { performance } from 'node:perf_hooks'
import { setImmediate as nextTurn } from 'node:timers/promises'
import { type Bus, ConfigError, createBus, fixed, type Logger, silentLogger } from '@tidings/core'
import { createTcpProxy, waitUntil } from '@tidings/testkit'
import { describe, expect, it } from 'vitest'
import {
  createJournal,
  type Journal,
  type JournalOptions,
  type JournalStore,
  pgliteJournalStore,
  postgresJournalStore,
} from '../src/index.js'
import { SaturationGauge } from '../src/saturation.js'
import type { SqlClient } from '../src/sql-client.js'
import { POSTGRES_URL, STORES } from './stores.js'

/**
 * Keeps this process's event loop busy, `spinMs` at a time with I/O and timers let in between, until
 * stopped or, with `forMs`, until that much time has passed (a timer may fire late on a loaded machine).
 */
function saturate(spinMs = 20, forMs = Number.POSITIVE_INFINITY): { stop(): Promise<void> } {
  let running = true
  const deadline = performance.now() + forMs
  const done = (async () => {
    while (running && performance.now() < deadline) {
      const until = performance.now() + spinMs
      while (performance.now() < until) {
        // spinning, as a process at full load does
      }
      await nextTurn()
    }
  })()
  return {
    async stop() {
      running = false
      await done
    },
  }
}

/** A shop whose `order.poison` always fails: one retry 1 ms later, then the dead-letter queue. */
async function shop(journal: Journal): Promise<{ bus: Bus; handled: () => number; dead: () => number }> {
  const bus = createBus({
    service: 'shop',
    url: `memory://journal-shedding-${Math.random()}`,
    logger: silentLogger,
    journal,
  })
  let handled = 0
  let dead = 0
  bus.on('dead-lettered', () => {
    dead += 1
  })
  bus.listen(
    'order.#',
    (event) => {
      if (event.type === 'order.poison') throw new Error('no such warehouse')
      handled += 1
    },
    { name: 'shipping', retry: { maxAttempts: 2, backoff: fixed(1) } },
  )
  await bus.start()
  return { bus, handled: () => handled, dead: () => dead }
}

const quiet: Pick<JournalOptions, 'logger' | 'flushIntervalMs'> = {
  logger: silentLogger,
  flushIntervalMs: 10,
}

// No routine allowance: what is kept is the trouble alone. PGlite works on this event loop, so it
// sheds only when asked to.
const CASES = [
  { name: 'PostgreSQL', kind: STORES[0]!, loadShedding: { routinePerSecond: 0 } },
  { name: 'PGlite', kind: STORES[1]!, loadShedding: { eventLoopUtilization: 0.9, routinePerSecond: 0 } },
] as const

describe.each(CASES)('a journal on $name in a saturated process', ({ kind, loadShedding }) => {
  it('records failures, retries and dead letters with their events, leaves out the routine (counted), and records everything again once the load has passed', async () => {
    const store = kind.make()
    const warnings: string[] = []
    const logger: Logger = { ...silentLogger, warn: (_object, message) => void warnings.push(message ?? '') }
    const journal = createJournal({ store, ...quiet, logger, loadShedding })
    const { bus, handled, dead } = await shop(journal)
    try {
      const load = saturate()
      try {
        await waitUntil(() => journal.stats().saturated, {
          timeoutMs: 5_000,
          what: 'the journal to see the load',
        })
        for (let n = 0; n < 20; n += 1) await bus.publish('order.placed', { n })
        const poison = await bus.publish('order.poison', { orderId: 'o-13' })
        await waitUntil(() => handled() === 20 && dead() === 1, { timeoutMs: 5_000 })
        expect(journal.stats().saturated).toBe(true)
        expect(journal.stats().shed).toBeGreaterThanOrEqual(41) // 21 published, 20 handled the first time
        expect(warnings.filter((message) => message.includes('saturated'))).toHaveLength(1)

        await load.stop()
        await journal.flush()
        expect((await journal.search({ type: 'order.placed' })).events).toHaveLength(0)
        const trace = await journal.trace(poison.id)
        expect(trace?.event.data).toEqual({ orderId: 'o-13' })
        const steps = trace!.groups[0]!.steps
        expect(steps.map((step) => `${step.kind}:${step.attempt}`)).toEqual([
          'failed:1',
          'retry-scheduled:2',
          'failed:2',
          'dead-lettered:2',
        ])
        expect(steps[0]).toMatchObject({ errorMessage: 'no such warehouse' })
        // Its received step was not kept; the outcome still says when the attempt began.
        expect(Date.parse(steps[0]!.receivedAt!)).toBeLessThanOrEqual(Date.parse(steps[0]!.at))
        expect((await journal.search({ outcome: 'dead' })).events.map((entry) => entry.event.id)).toEqual([
          poison.id,
        ])
      } finally {
        await load.stop()
      }

      await waitUntil(() => !journal.stats().saturated, { timeoutMs: 5_000, what: 'the load to pass' })
      const after = await bus.publish('order.placed', { n: 'after' })
      await waitUntil(() => handled() === 21)
      await new Promise((resolve) => setTimeout(resolve, 20))
      await journal.flush()
      expect((await journal.event(after.id))?.groups).toEqual([
        { group: 'shop-shipping', outcome: 'handled', attempts: 1 },
      ])
    } finally {
      await bus.close()
      await kind.cleanup(store)
    }
  })
})

describe('the routine a saturated process still records (routinePerSecond)', () => {
  it('is a sample of a flood of events, no more than the allowance', async () => {
    const store = STORES[0]!.make()
    const journal = createJournal({ store, ...quiet, loadShedding: { routinePerSecond: 10 } })
    const { bus, handled } = await shop(journal)
    const load = saturate(5)
    try {
      await waitUntil(() => journal.stats().saturated, { timeoutMs: 5_000 })
      const started = performance.now()
      for (let n = 0; n < 60; n += 1) await bus.publish('order.placed', { n })
      await waitUntil(() => handled() === 60, { timeoutMs: 5_000 })
      const seconds = (performance.now() - started) / 1000
      await load.stop()
      await journal.flush()
      const recorded = (await journal.search({ type: 'order.placed', limit: 100 })).events.length
      expect(recorded).toBeGreaterThan(0)
      // A second's worth saved up, and what the time of publishing earned; one record each at most.
      expect(recorded).toBeLessThanOrEqual(Math.ceil(10 + 10 * seconds) + 1)
      expect(journal.stats().shed).toBeGreaterThan(0)
    } finally {
      await load.stop()
      await bus.close()
      await STORES[0]!.cleanup(store)
    }
  })

  it('is the whole record of a process busy with a few events that each take long (default: 100 a second)', async () => {
    const store = STORES[0]!.make()
    const journal = createJournal({ store, ...quiet })
    const { bus, handled } = await shop(journal)
    const load = saturate()
    try {
      await waitUntil(() => journal.stats().saturated, { timeoutMs: 5_000 })
      for (let n = 0; n < 5; n += 1) await bus.publish('order.placed', { n })
      await waitUntil(() => handled() === 5, { timeoutMs: 5_000 })
      await new Promise((resolve) => setTimeout(resolve, 50))
      expect(journal.stats()).toMatchObject({ saturated: true, shed: 0 })
      await load.stop()
      await journal.flush()
      const { events } = await journal.search({ type: 'order.placed' })
      expect(events).toHaveLength(5)
      expect(events.map((entry) => entry.groups)).toEqual(
        Array.from({ length: 5 }, () => [{ group: 'shop-shipping', outcome: 'handled', attempts: 1 }]),
      )
    } finally {
      await load.stop()
      await bus.close()
      await STORES[0]!.cleanup(store)
    }
  })
})

describe('a replay from a saturated process', () => {
  it("is kept with its new attempt chain, though that succeeds the first time: it is an operator's", async () => {
    const store = STORES[0]!.make()
    const journal = createJournal({ store, ...quiet, loadShedding: { routinePerSecond: 0 } })
    const { bus, handled } = await shop(journal)
    try {
      const placed = await bus.publish('order.placed', { orderId: 'o-15' })
      await waitUntil(() => handled() === 1)
      const load = saturate()
      try {
        await waitUntil(() => journal.stats().saturated, { timeoutMs: 5_000 })
        await journal.replay(placed.id, 'shop-shipping', bus)
        await waitUntil(() => handled() === 2, { timeoutMs: 5_000 })
        await new Promise((resolve) => setTimeout(resolve, 50))
      } finally {
        await load.stop()
      }
      await journal.flush()
      const steps = (await journal.trace(placed.id))!.groups[0]!.steps
      expect(steps.map((step) => `${step.kind}:${step.attempt}`)).toEqual([
        'handled:1',
        'replayed:1',
        'handled:1',
      ])
    } finally {
      await bus.close()
      await STORES[0]!.cleanup(store)
    }
  })
})

describe('a journal told not to shed load', () => {
  it.each([
    { name: 'PGlite, by default', make: () => pgliteJournalStore(), loadShedding: undefined },
    { name: 'PostgreSQL, with loadShedding: false', make: STORES[0]!.make, loadShedding: false as const },
  ])('records every event in a saturated process ($name)', async ({ make, loadShedding }) => {
    const store = make()
    const journal = createJournal({ store, ...quiet, loadShedding })
    const { bus, handled } = await shop(journal)
    const load = saturate()
    try {
      await new Promise((resolve) => setTimeout(resolve, 400)) // longer than it takes to see the load
      for (let n = 0; n < 10; n += 1) await bus.publish('order.placed', { n })
      await waitUntil(() => handled() === 10, { timeoutMs: 5_000 })
      await new Promise((resolve) => setTimeout(resolve, 20))
      expect(journal.stats()).toMatchObject({ saturated: false, shed: 0 })
      await load.stop()
      await journal.flush()
      expect((await journal.search({ type: 'order.placed' })).events).toHaveLength(10)
    } finally {
      await load.stop()
      await bus.close()
      if (store.schema !== 'tidings_journal') await STORES[0]!.cleanup(store)
    }
  })
})

describe('the routine records waiting when the process becomes saturated', () => {
  it('are left out, while the failures among them are kept and written once the store is back', async () => {
    const target = new URL(POSTGRES_URL)
    const proxy = await createTcpProxy({ host: target.hostname, port: Number(target.port || 5432) })
    const through = new URL(POSTGRES_URL)
    through.hostname = proxy.host
    through.port = String(proxy.port)
    const kind = STORES[0]!
    const schema = kind.make().schema
    const store = postgresJournalStore({ connectionString: through.toString(), schema })
    const journal = createJournal({ store, ...quiet })
    const { bus, handled, dead } = await shop(journal)
    try {
      proxy.block() // the records wait in the buffer
      for (let n = 0; n < 10; n += 1) await bus.publish('order.placed', { n })
      const poison = await bus.publish('order.poison', { orderId: 'o-14' })
      await waitUntil(() => handled() === 10 && dead() === 1, { timeoutMs: 5_000 })
      await waitUntil(() => journal.stats().lastError !== undefined, { timeoutMs: 5_000 })
      const waiting = journal.stats().buffered
      expect(waiting).toBeGreaterThanOrEqual(11 + 10 + 4) // event rows, handled steps, the poison's four steps

      const load = saturate()
      try {
        await waitUntil(() => journal.stats().saturated, { timeoutMs: 5_000 })
      } finally {
        await load.stop()
      }
      expect(journal.stats().buffered).toBe(5) // the poison's event row and its four steps
      expect(journal.stats().shed).toBe(waiting - 5)

      proxy.restore()
      await waitUntil(
        async () => {
          await journal.flush()
          return journal.stats().buffered === 0 && journal.stats().lastError === undefined
        },
        { timeoutMs: 15_000, intervalMs: 50 },
      )
      expect((await journal.search({ type: 'order.placed' })).events).toHaveLength(0)
      const steps = (await journal.trace(poison.id))!.groups[0]!.steps
      expect(steps.map((step) => `${step.kind}:${step.attempt}`)).toEqual([
        'failed:1',
        'retry-scheduled:2',
        'failed:2',
        'dead-lettered:2',
      ])
    } finally {
      await bus.close()
      await proxy.close()
      await kind.cleanup(store)
    }
  })
})

/** PGlite as the journal sees it, with each batch's transaction timed. */
function timedStore(): { store: JournalStore; writes: { start: number; end: number }[] } {
  const writes: { start: number; end: number }[] = []
  const pglite = pgliteJournalStore()
  const store: JournalStore = {
    ...pglite,
    async open(): Promise<SqlClient> {
      const client = await pglite.open()
      return {
        ...client,
        async transaction(work) {
          const start = performance.now()
          await client.transaction(work)
          writes.push({ start, end: performance.now() })
        },
      }
    },
  }
  return { store, writes }
}

describe('the writer of a process becoming saturated', () => {
  it('writes nothing routine from the moment the process looks busy, not even in the quarter second before it is called saturated', async () => {
    const { store, writes } = timedStore()
    const journal = createJournal({ store, ...quiet, loadShedding: { eventLoopUtilization: 0.9 } })
    const { bus, handled } = await shop(journal)
    await journal.search({}) // the store opened and migrated: that is not what is measured
    // Opening PGlite keeps this event loop busy too; from an idle process:
    await new Promise((resolve) => setTimeout(resolve, 300))
    await waitUntil(() => !journal.stats().saturated, { timeoutMs: 5_000 })
    expect(journal.stats().shed).toBe(0)
    const load = saturate(5)
    try {
      await new Promise((resolve) => setTimeout(resolve, 120)) // a sample of the event loop (every 50 ms), busy
      for (let n = 0; n < 10; n += 1) await bus.publish('order.placed', { n })
      await waitUntil(() => handled() === 10)
      await waitUntil(() => journal.stats().saturated, { timeoutMs: 5_000 })
      expect(writes).toHaveLength(0)
      expect(journal.stats()).toMatchObject({ buffered: 0, written: 0 })
      expect(journal.stats().shed).toBeGreaterThanOrEqual(20)
    } finally {
      await load.stop()
      await bus.close()
    }
  })

  it('sees saturation in moments, however seldom it writes (flushIntervalMs: 60 s)', async () => {
    const store = STORES[0]!.make()
    const journal = createJournal({ store, logger: silentLogger, flushIntervalMs: 60_000 })
    const { bus } = await shop(journal)
    const load = saturate()
    try {
      await waitUntil(() => journal.stats().saturated, { timeoutMs: 2_000, what: 'saturation to be seen' })
    } finally {
      await load.stop()
      await bus.close()
      await STORES[0]!.cleanup(store)
    }
  })

  it('loses nothing to a busy moment shorter than saturation', async () => {
    const store = STORES[0]!.make()
    const journal = createJournal({ store, ...quiet })
    const { bus, handled } = await shop(journal)
    try {
      const load = saturate(5, 100)
      for (let n = 0; n < 10; n += 1) await bus.publish('order.placed', { n })
      await load.stop()
      await waitUntil(() => handled() === 10)
      await new Promise((resolve) => setTimeout(resolve, 400)) // past when it would have been called saturated
      await journal.flush()
      expect(journal.stats()).toMatchObject({ saturated: false, shed: 0, dropped: 0 })
      expect((await journal.search({ type: 'order.placed' })).events).toHaveLength(10)
    } finally {
      await bus.close()
      await STORES[0]!.cleanup(store)
    }
  })
})

describe('the writer of a saturated process', () => {
  it('rests after each batch for four times what it took, so writing takes at most a fifth of the time', async () => {
    const { store, writes } = timedStore()
    const journal = createJournal({
      store,
      ...quiet,
      batchSize: 10,
      loadShedding: { eventLoopUtilization: 0.9 },
    })
    const { bus, dead } = await shop(journal)
    const load = saturate(5)
    try {
      await waitUntil(() => journal.stats().saturated, { timeoutMs: 5_000 })
      writes.length = 0
      for (let n = 0; n < 12; n += 1) await bus.publish('order.poison', { n }) // 60 records, six batches
      await waitUntil(() => dead() === 12, { timeoutMs: 10_000 })
      await waitUntil(() => writes.length >= 4, { timeoutMs: 15_000 })
      for (let index = 1; index < writes.length; index += 1) {
        const previous = writes[index - 1]!
        // Timers fire late on a busy loop, never early; a millisecond for the clocks' rounding.
        expect(writes[index]!.start - previous.end).toBeGreaterThanOrEqual(
          4 * (previous.end - previous.start) - 1,
        )
      }
    } finally {
      await load.stop()
      await bus.close()
    }
  })
})

describe('SaturationGauge', () => {
  /** A pretend event loop: `busy` of each `ms` spent working. */
  function pretendLoop() {
    let active = 0
    let idle = 0
    const measure = (
      current?: { active: number; idle: number },
      previous?: { active: number; idle: number },
    ) =>
      current && previous
        ? { active: current.active - previous.active, idle: current.idle - previous.idle, utilization: 0 }
        : { active, idle, utilization: 0 }
    return {
      measure,
      run(ms: number, busy: number) {
        active += ms * busy
        idle += ms * (1 - busy)
      },
    }
  }

  it('calls a process saturated after a quarter of a second at or above the threshold, not after one busy moment', () => {
    const loop = pretendLoop()
    const gauge = new SaturationGauge(0.9, loop.measure)
    loop.run(100, 1)
    expect(gauge.sample()).toBe(false)
    expect(gauge.busy).toBe(true)
    loop.run(100, 0.5)
    loop.run(100, 0.5)
    expect(gauge.sample()).toBe(false) // 300 ms at two thirds
    expect(gauge).toMatchObject({ saturated: false, busy: false })
    for (let tick = 0; tick < 2; tick += 1) {
      loop.run(100, 0.95)
      expect(gauge.sample()).toBe(false)
    }
    loop.run(100, 0.95)
    expect(gauge.busy).toBe(true) // the writer holds back from here
    expect(gauge.sample()).toBe(true)
    expect(gauge).toMatchObject({ saturated: true })
    expect(gauge.utilization).toBeCloseTo(0.95)
  })

  it('calls it saturated no longer only after a second clearly below the threshold', () => {
    const loop = pretendLoop()
    const gauge = new SaturationGauge(0.9, loop.measure)
    loop.run(300, 1)
    expect(gauge.sample()).toBe(true)
    loop.run(1_000, 0.85) // below the threshold, within its margin: the journal's own work resuming
    expect(gauge.sample()).toBe(false)
    expect(gauge.saturated).toBe(true)
    loop.run(500, 0.2)
    expect(gauge.sample()).toBe(false) // half a second is not enough
    loop.run(500, 0.2)
    expect(gauge.sample()).toBe(true)
    expect(gauge.saturated).toBe(false)
  })
})

describe('createJournal({ loadShedding })', () => {
  it('says what to fix when it is not false or { eventLoopUtilization, routinePerSecond } in range', () => {
    const store = pgliteJournalStore()
    for (const eventLoopUtilization of [0, 1.5, Number.NaN, '0.9']) {
      expect(() =>
        createJournal({ store, loadShedding: { eventLoopUtilization: eventLoopUtilization as number } }),
      ).toThrow(ConfigError)
    }
    expect(() => createJournal({ store, loadShedding: { eventLoopUtilization: 2 } })).toThrow(
      /eventLoopUtilization.*above 0 and at most 1.*got 2/,
    )
    expect(() => createJournal({ store, loadShedding: true as never })).toThrow(
      /false or \{ eventLoopUtilization, routinePerSecond \}/,
    )
    for (const routinePerSecond of [-1, Number.POSITIVE_INFINITY, '10']) {
      expect(() =>
        createJournal({ store, loadShedding: { routinePerSecond: routinePerSecond as number } }),
      ).toThrow(/routinePerSecond.*0 or more/)
    }
    expect(() => createJournal({ store, loadShedding: { routinePerSecond: 0 } })).not.toThrow()
    expect(() => createJournal({ store, loadShedding: { eventLoopUtilization: 1 } })).not.toThrow()
  })
})
