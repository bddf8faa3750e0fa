import { createBus, type Logger, silentLogger } from '@tidings/core'
import { createTcpProxy } from '@tidings/testkit'
import { describe, expect, it } from 'vitest'
import { createJournal, postgresJournalStore } from '../src/index.js'
import { POSTGRES_URL, STORES } from './stores.js'

describe('a journal whose PostgreSQL goes away and comes back', () => {
  it('keeps what it buffered, writes it once the store is back, and handling never waits', async () => {
    const target = new URL(POSTGRES_URL)
    const proxy = await createTcpProxy({ host: target.hostname, port: Number(target.port || 5432) })
    const through = new URL(POSTGRES_URL)
    through.hostname = proxy.host
    through.port = String(proxy.port)
    const kind = STORES[0]!
    const schema = kind.make().schema
    const store = postgresJournalStore({ connectionString: through.toString(), schema })
    const errors: string[] = []
    const logger: Logger = {
      debug() {},
      info() {},
      warn() {},
      error: (_object, message) => void errors.push(message ?? ''),
    }
    const journal = createJournal({ store, flushIntervalMs: 10, logger, loadShedding: false })
    const bus = createBus({
      service: 'shop',
      url: `memory://journal-outage-${Math.random()}`,
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
      for (let n = 0; n < 5; n += 1) await bus.publish('order.placed', { n })
      while (handled < 5) await new Promise((resolve) => setTimeout(resolve, 5))
      await new Promise((resolve) => setTimeout(resolve, 20))
      await journal.flush()
      expect(journal.stats()).toMatchObject({ buffered: 0, lastError: undefined })

      proxy.block() // the journal's connections are cut and new ones refused
      const outageStarted = Date.now()
      for (let n = 5; n < 30; n += 1) await bus.publish('order.placed', { n })
      while (handled < 30) await new Promise((resolve) => setTimeout(resolve, 5))
      expect(Date.now() - outageStarted).toBeLessThan(2_000) // handling did not wait for the journal
      while (journal.stats().lastError === undefined) await new Promise((resolve) => setTimeout(resolve, 10))
      expect(journal.stats().buffered).toBeGreaterThan(0)
      expect(errors.filter((message) => message.includes('writing to the store failed'))).toHaveLength(1)

      proxy.restore()
      const deadline = Date.now() + 10_000
      while (
        (journal.stats().buffered > 0 || journal.stats().lastError !== undefined) &&
        Date.now() < deadline
      )
        await new Promise((resolve) => setTimeout(resolve, 20))
      expect(journal.stats()).toMatchObject({ buffered: 0, dropped: 0, rejected: 0, lastError: undefined })
      const { events } = await journal.search({ type: 'order.placed', limit: 100 })
      expect(events.map((entry) => (entry.event.data as { n: number }).n).sort((a, b) => a - b)).toEqual(
        Array.from({ length: 30 }, (_, n) => n),
      )
      expect(events.every((entry) => entry.groups[0]?.outcome === 'handled')).toBe(true)
    } finally {
      await bus.close()
      await proxy.close()
      await kind.cleanup(store)
    }
  })

  it('loses a connection in the middle of a batch as a failed write, never as an error that ends the process', async () => {
    const target = new URL(POSTGRES_URL)
    const proxy = await createTcpProxy({ host: target.hostname, port: Number(target.port || 5432) })
    const through = new URL(POSTGRES_URL)
    through.hostname = proxy.host
    through.port = String(proxy.port)
    const client = await postgresJournalStore({ connectionString: through.toString() }).open()
    const uncaught: unknown[] = []
    const onUncaught = (error: unknown) => void uncaught.push(error)
    process.on('uncaughtException', onUncaught)
    try {
      await expect(
        client.transaction(async (transaction) => {
          await transaction.query('SELECT 1')
          proxy.cut() // the socket closes while the connection is checked out for the batch
          await new Promise((resolve) => setTimeout(resolve, 50))
          await transaction.query('SELECT 2')
        }),
      ).rejects.toThrow()
      await new Promise((resolve) => setTimeout(resolve, 50))
      expect(uncaught).toEqual([])
      // The pool goes on with a new connection.
      await expect(client.query('SELECT 3 AS three')).resolves.toMatchObject({ rows: [{ three: 3 }] })
    } finally {
      process.off('uncaughtException', onUncaught)
      await client.close()
      await proxy.close()
    }
  })
})
