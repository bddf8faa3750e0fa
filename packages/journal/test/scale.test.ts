import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { silentLogger } from '@tidings/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createJournal, type Journal, type JournalStore, pgliteJournalStore } from '../src/index.js'
import { migrate } from '../src/schema.js'
import { STORES } from './stores.js'

const EVENTS = 100_000
const BUDGET_MS = 100

/** 100,000 events a second apart over four types, each delivered to one group (1 in 97 dead). */
function seedSql(schema: string): string {
  return `
    INSERT INTO ${schema}.events (id, type, source, time, key, data, envelope, published)
    SELECT 'ev-' || n, t.type, '/shop', ts, 'o-' || n, d.data,
           jsonb_build_object('id', 'ev-' || n, 'type', t.type, 'source', '/shop', 'time', ts, 'data', d.data, 'headers', '{}'::jsonb),
           true
    FROM generate_series(1, ${EVENTS}) AS n,
         LATERAL (SELECT (ARRAY['order.placed', 'order.cancelled', 'payment.captured', 'shipment.created'])[1 + n % 4] AS type) t,
         LATERAL (SELECT timestamptz '2026-01-01T00:00:00Z' + n * interval '1 second' AS ts) time_of,
         LATERAL (SELECT jsonb_build_object('orderId', 'CK' || n, 'amount', n % 1000,
                   'customer', jsonb_build_object('email', 'c' || n || '@example.com')) AS data) d;
    INSERT INTO ${schema}.deliveries (event_id, group_name, outcome, attempts, updated_at)
    SELECT 'ev-' || n, 'shipping-create-shipment',
           CASE WHEN n % 97 = 0 THEN 'dead' WHEN n % 13 = 0 THEN 'failing' ELSE 'handled' END, 1, now()
    FROM generate_series(1, ${EVENTS}) AS n;
    ANALYZE;
  `
}

describe.each([
  ...STORES.filter((kind) => kind.name === 'PostgreSQL'),
  // PGlite keeps a journal this size on disk (an in-memory one cannot be seeded from a second client).
  { name: 'PGlite (on disk)', make: () => pgliteJournalStore(), cleanup: async () => {} },
])('queries over a journal of 100,000 events on $name', (kind) => {
  let store: JournalStore
  let journal: Journal
  let dataDir: string | undefined

  beforeAll(async () => {
    if (kind.name.startsWith('PGlite')) {
      dataDir = await mkdtemp(join(tmpdir(), 'tidings-journal-'))
      store = pgliteJournalStore({ dataDir })
    } else store = kind.make()
    const client = await store.open()
    await migrate(client, store.schema)
    await client.exec(seedSql(store.schema))
    await client.close()
    journal = createJournal({ store, logger: silentLogger })
    await journal.search({ limit: 1 }) // opens the store: not part of any query's time
  }, 180_000)

  afterAll(async () => {
    await journal?.close()
    await kind.cleanup(store)
    if (dataDir) await rm(dataDir, { recursive: true, force: true })
  })

  const timed = async (query: Parameters<Journal['search']>[0]) => {
    const started = performance.now()
    const page = await journal.search(query)
    return { page, ms: performance.now() - started }
  }

  it.each([
    ['an id', { query: 'id:ev-54321' }, ['ev-54321']],
    ['a data field equal to a value', { query: 'data.customer.email = "c77777@example.com"' }, ['ev-77777']],
    [
      'a data field by prefix, with a type pattern',
      { query: 'data.orderId: CK9999* AND type:order.*', limit: 3 },
      ['ev-99997', 'ev-99996', 'ev-99993'],
    ],
    [
      'an outcome in a group',
      { outcome: 'dead' as const, group: 'shipping-create-shipment', limit: 2 },
      ['ev-99910', 'ev-99813'],
    ],
    ['a time range', { after: '2026-01-01T00:00:10Z', before: '2026-01-01T00:00:12Z' }, ['ev-11', 'ev-10']],
    [
      'OR of two data fields',
      { query: 'data.orderId = CK5 OR data.customer.email = "c6@example.com"' },
      ['ev-6', 'ev-5'],
    ],
    ['the newest page of a type', { type: 'payment.#', limit: 2 }, ['ev-99998', 'ev-99994']],
  ])(`finds events by %s within ${BUDGET_MS} ms`, async (_what, query, expected) => {
    await timed(query) // the first run plans the query
    const { page, ms } = await timed(query)
    expect(page.events.map((entry) => entry.event.id)).toEqual(expected)
    expect(ms).toBeLessThan(BUDGET_MS)
  })
})
