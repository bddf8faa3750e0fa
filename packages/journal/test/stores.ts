import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { type JournalStore, pgliteJournalStore, postgresJournalStore } from '../src/index.js'

export const POSTGRES_URL = process.env.TIDINGS_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

/** A journal store per test: its own schema on PostgreSQL, its own in-memory PGlite. */
export interface StoreKind {
  readonly name: string
  make(): JournalStore
  cleanup(store: JournalStore): Promise<void>
}

export const STORES: readonly StoreKind[] = [
  {
    name: 'PostgreSQL',
    make: () =>
      postgresJournalStore({
        connectionString: POSTGRES_URL,
        schema: `journal_test_${randomBytes(5).toString('hex')}`,
      }),
    async cleanup(store) {
      const client = new pg.Client({ connectionString: POSTGRES_URL })
      await client.connect()
      await client.query(`DROP SCHEMA IF EXISTS ${store.schema} CASCADE`)
      await client.end()
    },
  },
  {
    name: 'PGlite',
    make: () => pgliteJournalStore(),
    cleanup: async () => {},
  },
]
