import { ConfigError } from '@tidings/core'
import { JsonRows } from './json-rows.js'
import type { SqlClient } from './sql-client.js'

export interface PostgresStoreOptions {
  /** `postgres://user@host:5432/db`; or give `pool`. */
  readonly connectionString?: string | undefined
  /** A `pg.Pool` of your own (the journal does not end it on close). */
  readonly pool?: PgPoolLike | undefined
  /** Where the journal's tables live (default `tidings_journal`). */
  readonly schema?: string | undefined
  /** Connections of the journal's own pool (default 4). */
  readonly maxConnections?: number | undefined
}

export interface PgPoolLike {
  query(text: string, params?: unknown[]): Promise<{ rows: object[] }>
  connect(): Promise<PgPoolClientLike>
  end(): Promise<void>
}

/** A connection checked out of a `pg.Pool`. */
export interface PgPoolClientLike {
  query(text: string, params?: unknown[]): Promise<unknown>
  release(error?: Error | boolean): void
  on(event: 'error', listener: (error: Error) => void): unknown
  off(event: 'error', listener: (error: Error) => void): unknown
}

/** A journal store description: what createJournal opens. */
export interface JournalStore {
  readonly schema: string
  /** Opens the database client (lazily loaded driver). */
  open(): Promise<SqlClient>
  /** Redacted, for logs. */
  readonly description: string
  /** Runs on this process's event loop (PGlite): the journal's load shedding is off by default for it. */
  readonly embedded?: boolean | undefined
}

/** PostgreSQL through `pg` (install it beside the journal): the production store. */
export function postgresJournalStore(options: PostgresStoreOptions): JournalStore {
  if (options === null || typeof options !== 'object' || (!options.connectionString && !options.pool)) {
    throw new ConfigError(
      'postgresJournalStore({ connectionString }) needs a connection string such as postgres://user@127.0.0.1:5432/app, or a pg Pool as { pool }.',
    )
  }
  return {
    schema: options.schema ?? 'tidings_journal',
    description: options.connectionString
      ? options.connectionString.replace(/\/\/([^@/]*)@/, '//***@')
      : 'a pg Pool',
    async open() {
      let pool = options.pool
      const owned = pool === undefined
      if (pool === undefined) {
        const pg = await import('pg').catch((error: unknown) => {
          throw new ConfigError('postgresJournalStore needs the pg package: npm install pg', { cause: error })
        })
        pool = new pg.default.Pool({
          connectionString: options.connectionString,
          max: options.maxConnections ?? 4,
          connectionTimeoutMillis: 5_000,
          // A journal can lose its last moments in a PostgreSQL crash (the bus keeps its own
          // guarantees); not waiting for each commit's flush to disk keeps it off the bus's back.
          options: '-c synchronous_commit=off',
        }) as unknown as PgPoolLike
        // An idle client's error (server restart) must not crash the process: the next query reconnects.
        ;(pool as unknown as { on(event: string, listener: () => void): void }).on('error', () => {})
      }
      const using = pool
      return {
        query: async (text, params) =>
          (await using.query(text, params?.map(binaryRows))) as { rows: never[] },
        exec: (text) =>
          withConnection(using, async (client) => {
            try {
              await client.query(text)
            } catch (error) {
              await client.query('ROLLBACK').catch(() => {})
              throw error
            }
          }),
        transaction: (work) =>
          withConnection(using, async (client) => {
            await client.query('BEGIN')
            await work({ query: (text, params) => client.query(text, params?.map(binaryRows)) })
            await client.query('COMMIT')
          }),
        close: async () => {
          if (owned) await using.end()
        },
      }
    },
  }
}

export interface PgliteStoreOptions {
  /** A directory to keep the journal in; default: in memory (gone when the process ends). */
  readonly dataDir?: string | undefined
  readonly schema?: string | undefined
}

/** PGlite: PostgreSQL compiled to WebAssembly, in-process, no server. For local development and demos. */
export function pgliteJournalStore(options: PgliteStoreOptions = {}): JournalStore {
  return {
    schema: options.schema ?? 'tidings_journal',
    description: options.dataDir ? `PGlite at ${options.dataDir}` : 'PGlite in memory',
    embedded: true,
    async open() {
      const { PGlite } = await import('@electric-sql/pglite').catch((error: unknown) => {
        throw new ConfigError(
          'pgliteJournalStore needs @electric-sql/pglite: npm install @electric-sql/pglite',
          {
            cause: error,
          },
        )
      })
      const database = options.dataDir ? new PGlite(options.dataDir) : new PGlite()
      return {
        query: async (text, params) =>
          (await database.query(text, params?.map(textRows))) as { rows: never[] },
        async exec(text) {
          try {
            await database.exec(text)
          } catch (error) {
            await database.exec('ROLLBACK').catch(() => {})
            throw error
          }
        },
        async transaction(work) {
          await database.transaction(async (inside) => {
            await work({ query: (text, params) => inside.query(text, params?.map(textRows)) })
          })
        },
        close: () => database.close(),
      }
    },
  }
}

/** `pg` sends a Buffer as a binary parameter: jsonb's binary form, with no string in between. */
function binaryRows(param: unknown): unknown {
  return param instanceof JsonRows ? param.binary() : param
}

function textRows(param: unknown): unknown {
  return param instanceof JsonRows ? param.text() : param
}

/**
 * Runs `work` on a connection of its own. A checked-out `pg` client reports a lost socket as an
 * 'error' event on itself, and the pool listens only while it is idle: without a listener here,
 * PostgreSQL going away in the middle of a batch would end the process. The query under way fails
 * with it anyway, and the connection is discarded instead of returned.
 */
async function withConnection(
  pool: PgPoolLike,
  work: (client: PgPoolClientLike) => Promise<void>,
): Promise<void> {
  const client = await pool.connect()
  let lost: Error | undefined
  const onError = (error: Error) => {
    lost ??= error
  }
  client.on('error', onError)
  try {
    await work(client)
  } catch (error) {
    // Discarded with the listener still on: a closing socket may report once more.
    client.release(error instanceof Error ? error : new Error(String(error)))
    throw error
  }
  if (lost) {
    client.release(lost)
    return
  }
  client.off('error', onError) // back to the pool, which listens while it is idle
  client.release()
}
