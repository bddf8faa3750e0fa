import { ConfigError } from '@tidings/core'
import type { SqlClient } from './sql-client.js'

/**
 * The journal's tables, created and migrated by the package: each migration runs once, in order,
 * recorded in `<schema>.journal_migrations`. A new version appends a migration; none is ever edited.
 *
 * - events: one row per event id (envelope as JSON, data as JSONB with a GIN index for `data.x = y`);
 * - steps: every handling step per group (received, handled, failed, retry scheduled, …);
 * - deliveries: where each event stands in each group now (the outcome filter reads only this).
 */
export const MIGRATIONS: readonly ((schema: string) => string)[] = [
  (schema) => `
    CREATE TABLE ${schema}.events (
      seq bigserial UNIQUE,
      id text PRIMARY KEY,
      type text NOT NULL,
      source text NOT NULL,
      time timestamptz NOT NULL,
      key text,
      data jsonb,
      envelope jsonb NOT NULL,
      published boolean NOT NULL DEFAULT false,
      recorded_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX events_time ON ${schema}.events (time DESC, id DESC);
    CREATE INDEX events_type ON ${schema}.events (type text_pattern_ops);
    CREATE INDEX events_data ON ${schema}.events USING gin (data jsonb_path_ops);
    CREATE TABLE ${schema}.steps (
      seq bigserial PRIMARY KEY,
      event_id text NOT NULL,
      group_name text NOT NULL,
      kind text NOT NULL,
      attempt integer NOT NULL,
      at timestamptz NOT NULL,
      received_at timestamptz,
      duration_ms double precision,
      error_name text,
      error_message text,
      error_stack text,
      delay_ms double precision,
      reason text
    );
    CREATE INDEX steps_event ON ${schema}.steps (event_id, group_name, seq);
    CREATE TABLE ${schema}.deliveries (
      event_id text NOT NULL,
      group_name text NOT NULL,
      outcome text NOT NULL,
      attempts integer NOT NULL,
      updated_at timestamptz NOT NULL,
      PRIMARY KEY (event_id, group_name)
    );
    CREATE INDEX deliveries_group ON ${schema}.deliveries (group_name, outcome);
    CREATE INDEX deliveries_outcome ON ${schema}.deliveries (outcome, event_id);
  `,
]

export async function migrate(client: SqlClient, schema: string): Promise<void> {
  await client.exec(`
    CREATE SCHEMA IF NOT EXISTS ${schema};
    CREATE TABLE IF NOT EXISTS ${schema}.journal_migrations (
      version integer PRIMARY KEY,
      applied_at timestamptz NOT NULL DEFAULT now()
    );
  `)
  // Each migration runs in a transaction holding the migrations table, so two processes starting
  // at once apply it once: the second waits, then finds it done.
  for (let version = 1; version <= MIGRATIONS.length; version += 1) {
    await client.exec(`BEGIN;
      LOCK TABLE ${schema}.journal_migrations IN EXCLUSIVE MODE;
      DO $migration$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM ${schema}.journal_migrations WHERE version = ${version}) THEN
          ${MIGRATIONS[version - 1]!(schema)}
          INSERT INTO ${schema}.journal_migrations (version) VALUES (${version});
        END IF;
      END $migration$;
      COMMIT;`)
  }
}

/** Schema names go into SQL text (not parameters), so only plain identifiers are accepted. */
export function assertSchemaName(schema: unknown): asserts schema is string {
  if (typeof schema !== 'string' || !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new ConfigError(
      `schema must be a lower-case SQL identifier (letters, digits, "_", at most 63), got ${JSON.stringify(schema)}.`,
    )
  }
}
