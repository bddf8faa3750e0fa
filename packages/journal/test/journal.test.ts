// The shop scenario of `tidings demo`, from its source (the CLI depends on the journal, not the reverse).

import { createBus, type Logger, MemoryBroker, memoryTransport, silentLogger } from '@tidings/core'
import pg from 'pg'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { runShopScenario } from '../../cli/src/demo/shop-scenario.js'
import { createJournal, type Journal, type JournalStore, postgresJournalStore } from '../src/index.js'
import { POSTGRES_URL, STORES } from './stores.js'

describe.each(STORES)('the journal on $name', (kind) => {
  let store: JournalStore
  let journal: Journal
  beforeEach(() => {
    store = kind.make()
    // These tests prove exact records; shedding under load has its own (load-shedding.test.ts), and
    // CI's two shared cores must not decide what gets recorded here.
    journal = createJournal({ store, flushIntervalMs: 10, logger: silentLogger, loadShedding: false })
  })
  afterEach(async () => {
    await journal.close()
    await kind.cleanup(store)
  })

  it("records the shop demo's events and every attempt of every group exactly", async () => {
    const result = await runShopScenario({
      url: `memory://journal-${Math.random()}`,
      observe: (bus) => journal.attach(bus),
    })
    await journal.flush()
    const { events } = await journal.search({ limit: 20 })
    expect(events.map((entry) => entry.event.type).sort()).toEqual([
      'order.placed',
      'order.placed',
      'payment.captured',
      'payment.captured',
      'shipment.created',
    ])
    const captured = (await journal.search({ type: 'payment.captured' })).events
    const byOrder = new Map(
      captured.map((entry) => [(entry.event.data as { orderId: string }).orderId, entry]),
    )
    const shipped = await journal.trace(byOrder.get('o-1001')!.event.id)
    const poison = await journal.trace(byOrder.get('o-1002')!.event.id)
    const shipping = (trace: typeof shipped) =>
      trace!.groups.find((group) => group.group === 'shipping-create-shipment')!
    expect(shipping(shipped).outcome).toBe('handled')
    expect(shipping(poison).outcome).toBe('dead')
    expect(result.deadLetters[0]!.id).toBe(poison!.event.id)
    // Which order met the two carrier timeouts depends on timing; both traces together are exact.
    const kinds = (trace: typeof shipped) =>
      shipping(trace).steps.map((step) => `${step.kind}:${step.attempt}`)
    expect(kinds(poison)).toEqual([
      'failed:1',
      'retry-scheduled:2',
      'failed:2',
      'retry-scheduled:3',
      'failed:3',
      'dead-lettered:3',
    ])
    expect(kinds(shipped).at(-1)).toBe(
      `handled:${kinds(shipped).filter((step) => step.startsWith('failed')).length + 1}`,
    )
    // Each attempt's outcome says when it was received (the received step is folded into it).
    for (const step of shipping(poison).steps.filter((each) => each.kind === 'failed')) {
      expect(Date.parse(step.receivedAt!)).toBeLessThanOrEqual(Date.parse(step.at))
      expect(step.durationMs).toBeGreaterThanOrEqual(0) // how long the failing handler ran
    }
    const failure = shipping(poison).steps.find((step) => step.kind === 'failed')!
    expect(failure).toMatchObject({
      errorName: 'Error',
      errorMessage: 'order o-1002 has no shipping address',
    })
    expect(failure.errorStack).toContain('order o-1002 has no shipping address')
    expect(shipping(poison).steps.find((step) => step.kind === 'dead-lettered')!.reason).toMatch(/exhausted/)
    expect(
      shipping(shipped).steps.find((step) => step.kind === 'handled')!.durationMs,
    ).toBeGreaterThanOrEqual(0)
    const payment = shipped!.groups.find((group) => group.group === 'payment-capture')
    expect(payment).toBeUndefined() // payment-capture received order.placed, not payment.captured
    const dead = await journal.search({ outcome: 'dead' })
    expect(dead.events.map((entry) => entry.event.id)).toEqual([poison!.event.id])
    const failing = await journal.search({ query: 'outcome:handled group:shipping-create-shipment' })
    expect(failing.events.map((entry) => entry.event.id)).toEqual([shipped!.event.id])
  })

  it('finds events by data fields, patterns and time, newest first, a page at a time', async () => {
    const bus = createBus({
      service: 'shop',
      transport: memoryTransport({ broker: new MemoryBroker() }),
      journal,
    })
    const published = []
    for (let n = 0; n < 7; n += 1) {
      published.push(
        await bus.publish(n % 2 === 0 ? 'order.placed' : 'order.cancelled', {
          orderId: `CK-${n}`,
          customer: { email: n === 3 ? 'ada@example.com' : `c${n}@example.com` },
          amount: n * 10,
        }),
      )
    }
    await bus.publish('payment.captured', {
      orderId: 'XX-1',
      customer: { email: 'ada@example.com' },
      amount: 5,
    })
    await journal.flush()
    const ids = async (query: string) =>
      (await journal.search({ query })).events.map((entry) => entry.event.id)

    expect(await ids('data.customer.email = "ada@example.com"')).toHaveLength(2)
    expect(await ids('type:order.* AND data.customer.email = "ada@example.com"')).toEqual([published[3]!.id])
    expect(await ids('data.orderId: CK*')).toEqual(published.map((event) => event.id).reverse())
    expect(await ids('data.amount = 20 OR data.amount = 40')).toEqual([published[4]!.id, published[2]!.id])
    expect(await ids('type:order.cancelled NOT data.orderId = CK-1')).toEqual([
      published[5]!.id,
      published[3]!.id,
    ])
    expect(await ids(`id:${published[0]!.id}`)).toEqual([published[0]!.id])
    expect(await ids('type:#.captured')).toHaveLength(1)
    expect(await ids('before:2000-01-01')).toEqual([])

    const first = await journal.search({ type: 'order.#', limit: 3 })
    const second = await journal.search({ type: 'order.#', limit: 3, cursor: first.nextCursor })
    const third = await journal.search({ type: 'order.#', limit: 3, cursor: second.nextCursor })
    expect([...first.events, ...second.events, ...third.events].map((entry) => entry.event.id)).toEqual(
      published.map((event) => event.id).reverse(),
    )
    expect(third.nextCursor).toBeUndefined()
    await bus.close()
  })

  it('replays an event to one group as a new attempt chain, recorded in its trace', async () => {
    const broker = new MemoryBroker()
    const bus = createBus({ service: 'shop', transport: memoryTransport({ broker }), journal })
    const handled: string[] = []
    bus.listen('invoice.sent', (_event, ctx) => void handled.push(`audit:${ctx.attempt}`), { name: 'audit' })
    bus.listen('invoice.sent', () => void handled.push('mail'), { name: 'mail' })
    await bus.start()
    const sent = await bus.publish('invoice.sent', { invoice: 'i-1' })
    while (handled.length < 2) await new Promise((resolve) => setTimeout(resolve, 5))
    await journal.replay(sent.id, 'shop-audit', bus)
    while (handled.length < 3) await new Promise((resolve) => setTimeout(resolve, 5))
    expect(handled.sort()).toEqual(['audit:1', 'audit:1', 'mail'])
    await journal.flush()
    const trace = await journal.trace(sent.id)
    const audit = trace!.groups.find((group) => group.group === 'shop-audit')!
    expect(audit.steps.map((step) => step.kind)).toEqual(['handled', 'replayed', 'handled'])
    expect(audit.steps.filter((step) => step.kind === 'handled').every((step) => step.receivedAt)).toBe(true)
    await expect(journal.replay('no-such-event', 'shop-audit', bus)).rejects.toThrow(/no event with id/)
    await bus.close()
    await expect(journal.search()).rejects.toThrow(/journal is closed/)
  })

  it('keeps recording past events PostgreSQL cannot take as they are: NUL, a lone surrogate, a time that is none', async () => {
    const broker = new MemoryBroker()
    const bus = createBus({
      service: 'shop',
      transport: memoryTransport({ broker }),
      logger: silentLogger,
      journal,
    })
    let handled = 0
    bus.listen(
      'note.#',
      () => {
        handled += 1
      },
      { name: 'audit' },
    )
    await bus.start()
    await bus.publish('note.nul', { text: 'before\u0000after', 'key\u0000': 1 })
    await bus.publish('note.surrogate', { text: 'half \ud800 a pair' })
    // A publisher of another stack: its time is not a time, and its names carry a tab and a NUL.
    broker.publish(
      'note.foreign',
      JSON.stringify({
        specversion: '1.0',
        id: 'foreign\t1',
        type: 'note.foreign',
        source: 'legacy\u0000app',
        time: 'the day before yesterday',
        data: { text: 'a \\ backslash, a "quote",\na newline' },
      }),
    )
    await bus.publish('note.plain', { text: 'ok' })
    while (handled < 4) await new Promise((resolve) => setTimeout(resolve, 5))
    await new Promise((resolve) => setTimeout(resolve, 20))
    await journal.flush()
    expect(journal.stats()).toMatchObject({ lastError: undefined, buffered: 0, rejected: 0 })
    const { events } = await journal.search({ type: 'note.#' })
    const byType = new Map(events.map((entry) => [entry.event.type, entry]))
    expect([...byType.keys()].sort()).toEqual(['note.foreign', 'note.nul', 'note.plain', 'note.surrogate'])
    // What PostgreSQL's JSON cannot hold is shown as its escape, not lost with its neighbours.
    expect(byType.get('note.nul')!.event.data).toEqual({ text: 'before\\u0000after', 'key\\u0000': 1 })
    expect(byType.get('note.surrogate')!.event.data).toEqual({ text: 'half \ufffd a pair' })
    const foreign = byType.get('note.foreign')!
    expect(foreign.event).toMatchObject({
      id: 'foreign\t1',
      time: 'the day before yesterday', // as published; the journal orders it by when it saw it
      data: { text: 'a \\ backslash, a "quote",\na newline' },
    })
    expect(foreign.groups).toEqual([{ group: 'shop-audit', outcome: 'handled', attempts: 1 }])
    expect((await journal.trace('foreign\t1'))?.groups[0]?.steps.map((step) => step.kind)).toEqual([
      'handled',
    ])
    await bus.close()
  })

  it('writes a batch larger than one statement takes, every event and step once', async () => {
    // Nothing is written until flush(): one batch of 300 records, about 170 KiB of events.
    const patient = createJournal({ store, flushIntervalMs: 60_000, logger: silentLogger })
    const bus = createBus({
      service: 'shop',
      url: `memory://large-${Math.random()}`,
      logger: silentLogger,
      journal: patient,
    })
    let handled = 0
    bus.listen(
      'order.placed',
      () => {
        handled += 1
      },
      { name: 'audit' },
    )
    await bus.start()
    const filler = 'x'.repeat(1024)
    for (let n = 0; n < 150; n += 1) await bus.publish('order.placed', { n, filler })
    while (handled < 150) await new Promise((resolve) => setTimeout(resolve, 5))
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(patient.stats()).toMatchObject({ written: 0, buffered: 300 })
    await patient.flush()
    expect(patient.stats()).toMatchObject({ written: 300, buffered: 0, lastError: undefined })
    const { events } = await patient.search({ type: 'order.placed', limit: 1000 })
    expect(events.map((entry) => (entry.event.data as { n: number }).n).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 150 }, (_, n) => n),
    )
    expect(events.every((entry) => entry.groups.length === 1 && entry.groups[0]!.outcome === 'handled')).toBe(
      true,
    )
    const trace = await patient.trace(events[0]!.event.id)
    expect(trace?.groups[0]?.steps.map((step) => step.kind)).toEqual(['handled'])
    await bus.close()
  })

  it('keeps to its retention in the background', async () => {
    const retained = createJournal({
      store,
      flushIntervalMs: 10,
      logger: silentLogger,
      retention: { maxEvents: 2, intervalMs: 20 },
    })
    const bus = createBus({ service: 'shop', url: `memory://retention-${Math.random()}`, journal: retained })
    for (let n = 0; n < 5; n += 1) await bus.publish('tick.tocked', { n })
    await retained.flush()
    const deadline = Date.now() + 5_000
    let kept: number[] = []
    while (Date.now() < deadline) {
      kept = (await retained.search()).events.map((entry) => (entry.event.data as { n: number }).n)
      if (kept.length === 2) break
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    expect(kept).toEqual([4, 3])
    await bus.close()
  })

  it('prunes by age and by count', async () => {
    const bus = createBus({ service: 'shop', url: `memory://prune-${Math.random()}`, journal })
    for (let n = 0; n < 5; n += 1) await bus.publish('tick.tocked', { n })
    await journal.flush()
    expect(await journal.prune({ maxEvents: 2 })).toBe(3)
    expect((await journal.search()).events.map((entry) => (entry.event.data as { n: number }).n)).toEqual([
      4, 3,
    ])
    expect(await journal.prune({ maxAgeMs: 60_000 })).toBe(0)
    await bus.close()
  })
})

describe('a record the store cannot take', () => {
  it('is left out, counted and logged, and every record around it is written', async () => {
    const warnings: { object: unknown; message: string }[] = []
    const logger: Logger = {
      debug() {},
      info() {},
      warn: (object, message) => void warnings.push({ object, message: message ?? '' }),
      error() {},
    }
    const kind = STORES[0]!
    const store = kind.make()
    const journal = createJournal({ store, flushIntervalMs: 10_000, logger })
    await journal.search() // creates the schema
    // A rule of the operator's database that PostgreSQL enforces on one event of the batch.
    const admin = new pg.Client({ connectionString: POSTGRES_URL })
    await admin.connect()
    await admin.query(
      `ALTER TABLE ${store.schema}.events ADD CONSTRAINT no_secrets CHECK (type <> 'note.secret')`,
    )
    await admin.end()
    const broker = new MemoryBroker()
    const bus = createBus({
      service: 'shop',
      transport: memoryTransport({ broker }),
      logger: silentLogger,
      journal,
    })
    let handled = 0
    bus.listen(
      'note.#',
      () => {
        handled += 1
      },
      { name: 'audit' },
    )
    await bus.start()
    for (let n = 0; n < 20; n += 1) await bus.publish(n === 13 ? 'note.secret' : 'note.plain', { n })
    // Another stack's publisher nested its data deeper than JSON.stringify can write again.
    const depth = 20_000
    broker.publish(
      'note.deep',
      `{"specversion":"1.0","id":"deep-1","type":"note.deep","source":"legacy","time":"2026-12-04T10:00:00Z","data":${'['.repeat(depth)}${']'.repeat(depth)}}`,
    )
    while (handled < 21) await new Promise((resolve) => setTimeout(resolve, 5))
    await new Promise((resolve) => setTimeout(resolve, 20))
    await journal.flush()
    const stats = journal.stats()
    expect(stats).toMatchObject({ rejected: 2, buffered: 0, dropped: 0, lastError: undefined })
    expect(stats.written).toBe(20 + 21 - 1) // 19 event rows and 21 handled steps
    const { events } = await journal.search({ type: 'note.#', limit: 100 })
    expect(events.map((entry) => entry.event.type).sort()).toEqual(Array(19).fill('note.plain'))
    expect(warnings.map((warning) => (warning.object as { record: string }).record).sort()).toEqual([
      'event',
      'event',
    ])
    expect(warnings[0]!.message).toMatch(/left out/)
    // The refused event's handling is still on record.
    const secretId = (
      warnings.find((warning) => String((warning.object as { err: Error }).err).includes('no_secrets'))!
        .object as { eventId: string }
    ).eventId
    await bus.close()
    const { rows } = await (async () => {
      const client = new pg.Client({ connectionString: POSTGRES_URL })
      await client.connect()
      try {
        return await client.query(`SELECT kind FROM ${store.schema}.steps WHERE event_id = $1`, [secretId])
      } finally {
        await client.end()
      }
    })()
    expect(rows.map((row) => row.kind)).toEqual(['handled'])
    await kind.cleanup(store)
  })
})

describe('a store that refuses many records', () => {
  it('names the first ten in the log and then stays quiet, while counting them all', async () => {
    let warnings = 0
    const logger: Logger = {
      debug() {},
      info() {},
      warn: () => {
        warnings += 1
      },
      error() {},
    }
    const kind = STORES[0]!
    const store = kind.make()
    const journal = createJournal({ store, flushIntervalMs: 10_000, logger })
    await journal.search() // creates the schema
    const admin = new pg.Client({ connectionString: POSTGRES_URL })
    await admin.connect()
    await admin.query(
      `ALTER TABLE ${store.schema}.events ADD CONSTRAINT no_notes CHECK (type <> 'note.secret')`,
    )
    await admin.end()
    const bus = createBus({
      service: 'shop',
      url: `memory://many-${Math.random()}`,
      logger: silentLogger,
      journal,
    })
    let handled = 0
    bus.listen(
      'note.secret',
      () => {
        handled += 1
      },
      { name: 'audit' },
    )
    await bus.start()
    try {
      for (let n = 0; n < 30; n += 1) await bus.publish('note.secret', { n })
      while (handled < 30) await new Promise((resolve) => setTimeout(resolve, 5))
      await new Promise((resolve) => setTimeout(resolve, 20))
      await journal.flush()
      // 30 event rows refused; their 30 handled steps written.
      expect(journal.stats()).toMatchObject({ rejected: 30, written: 30, buffered: 0 })
      expect(warnings).toBe(10)
    } finally {
      await bus.close()
      await kind.cleanup(store)
    }
  })
})

describe('a batch the store takes in part', () => {
  it('is written whole or not at all: the steps it took are not written twice when the rest is refused', async () => {
    const kind = STORES[0]!
    const store = kind.make()
    const journal = createJournal({ store, flushIntervalMs: 10_000, logger: silentLogger })
    await journal.search() // creates the schema
    const admin = new pg.Client({ connectionString: POSTGRES_URL })
    await admin.connect()
    // Steps go in before deliveries: this refuses a batch after its steps were taken.
    await admin.query(
      `ALTER TABLE ${store.schema}.deliveries ADD CONSTRAINT no_refused CHECK (group_name <> 'shop-refused')`,
    )
    const bus = createBus({
      service: 'shop',
      url: `memory://part-${Math.random()}`,
      logger: silentLogger,
      journal,
    })
    let handled = 0
    for (const name of ['audit', 'refused'])
      bus.listen(
        'order.placed',
        () => {
          handled += 1
        },
        { name },
      )
    await bus.start()
    try {
      for (let n = 0; n < 5; n += 1) await bus.publish('order.placed', { n })
      while (handled < 10) await new Promise((resolve) => setTimeout(resolve, 5))
      await new Promise((resolve) => setTimeout(resolve, 20))
      await journal.flush()
      expect(journal.stats()).toMatchObject({ rejected: 5, buffered: 0, lastError: undefined })
      const { rows } = await admin.query(
        `SELECT group_name, count(*)::int AS steps FROM ${store.schema}.steps GROUP BY group_name ORDER BY group_name`,
      )
      expect(rows).toEqual([{ group_name: 'shop-audit', steps: 5 }])
    } finally {
      await bus.close()
      await admin.end()
      await kind.cleanup(store)
    }
  })
})

describe("a journal on the application's own pg Pool", () => {
  it('writes and reads through it, and leaves it open when the journal closes', async () => {
    const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 2 })
    const kind = STORES[0]!
    const schema = kind.make().schema
    const store = postgresJournalStore({ pool, schema })
    const journal = createJournal({ store, flushIntervalMs: 10, logger: silentLogger, loadShedding: false })
    const bus = createBus({
      service: 'shop',
      url: `memory://own-pool-${Math.random()}`,
      logger: silentLogger,
      journal,
    })
    let handled = 0
    bus.listen(
      'order.placed',
      () => {
        handled += 1
      },
      { name: 'audit' },
    )
    await bus.start()
    try {
      await bus.publish('order.placed', { orderId: 'o-1' })
      while (handled < 1) await new Promise((resolve) => setTimeout(resolve, 5))
      await new Promise((resolve) => setTimeout(resolve, 20))
      await journal.flush()
      const { events } = await journal.search({ query: 'data.orderId = "o-1"' })
      expect(events.map((entry) => entry.groups)).toEqual([
        [{ group: 'shop-audit', outcome: 'handled', attempts: 1 }],
      ])
      await bus.close() // closes the journal
      await expect(pool.query('SELECT 1 AS one')).resolves.toMatchObject({ rows: [{ one: 1 }] })
    } finally {
      await pool.end()
      await kind.cleanup(store)
    }
  })
})

describe('a journal whose store is down', () => {
  it('drops and counts records beyond its buffer, logs once, and never slows handling', async () => {
    const warnings: string[] = []
    const errors: string[] = []
    const logger: Logger = {
      debug() {},
      info() {},
      warn: (_object, message) => void warnings.push(message ?? ''),
      error: (_object, message) => void errors.push(message ?? ''),
    }
    const journal = createJournal({
      store: postgresJournalStore({ connectionString: 'postgres://nobody:secret@127.0.0.1:1/none' }),
      bufferSize: 50,
      flushIntervalMs: 10,
      logger,
    })
    const bus = createBus({
      service: 'shop',
      url: `memory://down-${Math.random()}`,
      logger: silentLogger,
      journal,
    })
    let handled = 0
    bus.listen(
      'order.placed',
      () => {
        handled += 1
      },
      { name: 'audit' },
    )
    await bus.start()
    for (let n = 0; n < 200; n += 1) await bus.publish('order.placed', { n })
    while (handled < 200) await new Promise((resolve) => setTimeout(resolve, 5))
    const stats = journal.stats()
    expect(stats.buffered).toBe(50)
    expect(stats.dropped).toBeGreaterThan(400) // 200 event rows + 200 received + 200 handled steps, less 50
    expect(stats.written).toBe(0)
    expect(warnings.filter((message) => message.includes('dropping journal records'))).toHaveLength(1)
    expect(errors.join('\n')).not.toContain('secret')
    await bus.close()
  })

  it('buffers one record per handled attempt: its outcome takes the place of the received step', async () => {
    const journal = createJournal({
      store: postgresJournalStore({ connectionString: 'postgres://nobody@127.0.0.1:1/none' }),
      bufferSize: 1000,
      flushIntervalMs: 10_000, // no write is tried while the test looks at the buffer
      logger: silentLogger,
    })
    const bus = createBus({
      service: 'shop',
      url: `memory://fold-${Math.random()}`,
      logger: silentLogger,
      journal,
    })
    let handled = 0
    bus.listen(
      'order.placed',
      () => {
        handled += 1
      },
      { name: 'audit' },
    )
    await bus.start()
    for (let n = 0; n < 10; n += 1) await bus.publish('order.placed', { n })
    while (handled < 10) await new Promise((resolve) => setTimeout(resolve, 5))
    await new Promise((resolve) => setTimeout(resolve, 20)) // the last outcome follows the handler
    expect(journal.stats()).toMatchObject({ buffered: 20, dropped: 0 }) // 10 event rows + 10 handled steps
    await bus.close()
  })

  it('refuses bad options with errors that say what to write', () => {
    expect(() => createJournal({} as never)).toThrow(/needs a store/)
    expect(() =>
      createJournal({
        store: postgresJournalStore({ connectionString: 'postgres://x/y', schema: 'Bad-Name' }),
      }),
    ).toThrow(/lower-case SQL identifier/)
    expect(() => postgresJournalStore({} as never)).toThrow(/connection string/)
    const store = postgresJournalStore({ connectionString: 'postgres://x/y' })
    expect(() => createJournal({ store, retention: {} })).toThrow(
      /retention.*needs maxAgeMs, maxEvents or both/,
    )
    expect(() => createJournal({ store, retention: { maxEvents: -1 } })).toThrow(/maxEvents.*whole number/)
    expect(() => createJournal({ store, retention: { maxAgeMs: 1000, intervalMs: 0 } })).toThrow(
      /retention.intervalMs.*positive/,
    )
    expect(() =>
      createJournal({ store: postgresJournalStore({ connectionString: 'postgres://x/y' }), bufferSize: 0 }),
    ).toThrow(/bufferSize/)
  })
})

describe('a handler still running, or a process that died in it', () => {
  it('shows the received step of an attempt that has no outcome yet', async () => {
    const store = STORES[0]!.make()
    const journal = createJournal({ store, flushIntervalMs: 5, logger: silentLogger, loadShedding: false })
    const bus = createBus({ service: 'shop', url: `memory://running-${Math.random()}`, journal })
    let release: () => void = () => {}
    const running = new Promise<void>((resolve) => {
      release = resolve
    })
    let started = false
    bus.listen(
      'report.requested',
      async () => {
        started = true
        await running
      },
      { name: 'reports' },
    )
    await bus.start()
    const sent = await bus.publish('report.requested', {})
    while (!started) await new Promise((resolve) => setTimeout(resolve, 5))
    await journal.flush()
    const during = await journal.trace(sent.id)
    expect(during!.groups[0]!.steps.map((step) => step.kind)).toEqual(['received'])
    expect(during!.groups[0]!.outcome).toBe('received')
    release()
    await bus.close() // drains the handler, flushes the journal, closes it
    const reader = createJournal({ store, logger: silentLogger })
    const after = await reader.trace(sent.id)
    expect(after!.groups[0]!.steps.map((step) => step.kind)).toEqual(['handled'])
    expect(after!.groups[0]!.outcome).toBe('handled')
    await reader.close()
    await STORES[0]!.cleanup(store)
  })
})
