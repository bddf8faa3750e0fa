// The shop scenario of `tidings demo`, from its source (the CLI depends on the journal, not the reverse).

import { createBus, type Logger, MemoryBroker, memoryTransport, silentLogger } from '@tidings/core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { runShopScenario } from '../../cli/src/demo/shop-scenario.js'
import { createJournal, type Journal, type JournalStore, postgresJournalStore } from '../src/index.js'
import { STORES } from './stores.js'

describe.each(STORES)('the journal on $name', (kind) => {
  let store: JournalStore
  let journal: Journal
  beforeEach(() => {
    store = kind.make()
    journal = createJournal({ store, flushIntervalMs: 10, logger: silentLogger })
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
    expect(() =>
      createJournal({ store: postgresJournalStore({ connectionString: 'postgres://x/y' }), bufferSize: 0 }),
    ).toThrow(/bufferSize/)
  })
})

describe('a handler still running, or a process that died in it', () => {
  it('shows the received step of an attempt that has no outcome yet', async () => {
    const store = STORES[0]!.make()
    const journal = createJournal({ store, flushIntervalMs: 5, logger: silentLogger })
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
