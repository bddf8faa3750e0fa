import type { Event } from '@tidings/core'
import { ConfigError } from '@tidings/core'
import { JsonRows } from './json-rows.js'
import { type Condition, compileCondition } from './query.js'
import type {
  AttemptRecord,
  EventTrace,
  JournalEvent,
  JournalRecord,
  Outcome,
  PendingStep,
  SearchPage,
} from './records.js'
import type { SqlClient } from './sql-client.js'
import { storableTime } from './storable.js'

/** Reads and writes the journal's tables; the same SQL on PostgreSQL and PGlite. */
export class SqlJournal {
  constructor(
    private readonly client: SqlClient,
    private readonly schema: string,
  ) {}

  /** Kept between batches; a second write while one runs (not the journal's way) gets its own. */
  private readonly rows = new JsonRows()
  private writing = false

  /**
   * One batch in one transaction: events, steps, then where each delivery stands, each as statements
   * taking their rows as one JSON parameter. `unencodable` hears of an event whose data
   * JSON.stringify cannot write (nested too deep by another stack's publisher); its row is left out.
   */
  async write(
    records: readonly JournalRecord[],
    unencodable: (event: Event, error: unknown) => void,
  ): Promise<void> {
    const rows = this.writing ? new JsonRows() : this.rows
    const owned = rows === this.rows
    if (owned) this.writing = true
    try {
      await this.writeWith(rows, records, unencodable)
    } finally {
      if (owned) this.writing = false
    }
  }

  private async writeWith(
    rows: JsonRows,
    records: readonly JournalRecord[],
    unencodable: (event: Event, error: unknown) => void,
  ): Promise<void> {
    const events = new Map<string, { event: Event; published: boolean }>()
    const steps: PendingStep[] = []
    for (const record of records) {
      if (record.kind === 'event') {
        const known = events.get(record.event.id)
        events.set(record.event.id, {
          event: record.event,
          published: record.published || known?.published === true,
        })
      } else steps.push(record.attempt)
    }
    const s = this.schema
    const writtenAt = new Date().toISOString()
    await this.client.transaction(async (transaction) => {
      // Statements of about 60 KiB each: a parameter of megabytes is a fresh allocation for the
      // driver every time, and paging it in cost the bus more than the statements it saves.
      const send = async (statement: string) => {
        if (rows.size > 0) await transaction.query(statement, [rows])
        rows.reset()
      }
      rows.reset()
      for (const { event, published } of events.values()) {
        try {
          rows.add({
            id: event.id,
            type: event.type,
            source: event.source,
            time: storableTime(event.time, writtenAt),
            key: event.key ?? null,
            data: event.data ?? null,
            envelope: withoutData(event), // the data column holds it once
            published,
          })
        } catch (error) {
          unencodable(event, error)
        }
        if (rows.byteLength >= STATEMENT_BYTES) await send(insertEvents(s))
      }
      await send(insertEvents(s))
      for (const step of steps) {
        rows.add({
          event_id: step.eventId,
          group_name: step.group,
          kind: step.kind,
          attempt: step.attempt,
          at: new Date(step.at).toISOString(),
          received_at: step.receivedAt === undefined ? null : new Date(step.receivedAt).toISOString(),
          duration_ms: step.durationMs ?? null,
          error_name: step.errorName ?? null,
          error_message: step.errorMessage ?? null,
          error_stack: step.errorStack ?? null,
          delay_ms: step.delayMs ?? null,
          reason: step.reason ?? null,
        })
        if (rows.byteLength >= STATEMENT_BYTES) await send(insertSteps(s))
      }
      await send(insertSteps(s))
      for (const delivery of latestDeliveries(steps)) {
        rows.add(delivery)
        if (rows.byteLength >= STATEMENT_BYTES) await send(upsertDeliveries(s))
      }
      await send(upsertDeliveries(s))
    })
  }

  async search(
    condition: Condition | undefined,
    limit: number,
    cursor: string | undefined,
  ): Promise<SearchPage> {
    const params: unknown[] = []
    const where: string[] = []
    if (condition) where.push(compileCondition(condition, this.schema, params))
    if (cursor !== undefined) {
      const [time, id] = decodeCursor(cursor)
      params.push(time, id)
      where.push(`(e.time, e.id) < ($${params.length - 1}::timestamptz, $${params.length})`)
    }
    params.push(limit + 1)
    const { rows } = await this.client.query<{
      id: string
      envelope: Event
      recorded_at: Date | string
      time: Date | string
    }>(
      `SELECT e.id, ${ENVELOPE} AS envelope, e.recorded_at, e.time FROM ${this.schema}.events e
       ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY e.time DESC, e.id DESC LIMIT $${params.length}`,
      params,
    )
    const page = rows.slice(0, limit)
    const groups = await this.groupsOf(page.map((row) => row.id))
    const last = page[page.length - 1]
    return {
      events: page.map((row) => ({
        event: row.envelope,
        recordedAt: iso(row.recorded_at),
        groups: groups.get(row.id) ?? [],
      })),
      nextCursor: rows.length > limit && last ? encodeCursor(iso(last.time), last.id) : undefined,
    }
  }

  async event(id: string): Promise<JournalEvent | undefined> {
    const { rows } = await this.client.query<{ envelope: Event; recorded_at: Date | string }>(
      `SELECT ${ENVELOPE} AS envelope, recorded_at FROM ${this.schema}.events e WHERE id = $1`,
      [id],
    )
    const row = rows[0]
    if (!row) return undefined
    return {
      event: row.envelope,
      recordedAt: iso(row.recorded_at),
      groups: (await this.groupsOf([id])).get(id) ?? [],
    }
  }

  async trace(id: string): Promise<EventTrace | undefined> {
    const found = await this.event(id)
    if (!found) return undefined
    const { rows } = await this.client.query<StepRow>(
      `SELECT * FROM ${this.schema}.steps WHERE event_id = $1 ORDER BY group_name, seq`,
      [id],
    )
    const byGroup = new Map<string, AttemptRecord[]>()
    for (const row of rows) {
      const steps = byGroup.get(row.group_name) ?? []
      steps.push(toStep(row))
      byGroup.set(row.group_name, steps)
    }
    for (const [group, steps] of byGroup) byGroup.set(group, foldReceived(steps))
    return {
      event: found.event,
      groups: found.groups.map(({ group, outcome }) => ({ group, outcome, steps: byGroup.get(group) ?? [] })),
    }
  }

  /** Deletes events older than `before`, or beyond the newest `keep`, with their steps. */
  async prune(options: {
    readonly before?: string | undefined
    readonly keep?: number | undefined
  }): Promise<number> {
    const s = this.schema
    const params: unknown[] = []
    const conditions: string[] = []
    if (options.before !== undefined) {
      params.push(options.before)
      conditions.push(`time < $${params.length}::timestamptz`)
    }
    if (options.keep !== undefined) {
      params.push(options.keep)
      conditions.push(
        `seq <= coalesce((SELECT seq FROM ${s}.events ORDER BY seq DESC OFFSET $${params.length} LIMIT 1), 0)`,
      )
    }
    if (conditions.length === 0) return 0
    const { rows } = await this.client.query<{ id: string }>(
      `DELETE FROM ${s}.events WHERE ${conditions.join(' OR ')} RETURNING id`,
      params,
    )
    if (rows.length > 0) {
      const ids = JSON.stringify(rows.map((row) => row.id))
      await this.client.query(
        `DELETE FROM ${s}.steps WHERE event_id IN (SELECT jsonb_array_elements_text($1::jsonb))`,
        [ids],
      )
      await this.client.query(
        `DELETE FROM ${s}.deliveries WHERE event_id IN (SELECT jsonb_array_elements_text($1::jsonb))`,
        [ids],
      )
    }
    return rows.length
  }

  private async groupsOf(ids: readonly string[]): Promise<Map<string, JournalEvent['groups']>> {
    const result = new Map<string, { group: string; outcome: Outcome | 'received'; attempts: number }[]>()
    if (ids.length === 0) return result
    const { rows } = await this.client.query<{
      event_id: string
      group_name: string
      outcome: Outcome | 'received'
      attempts: number
    }>(
      `SELECT event_id, group_name, outcome, attempts FROM ${this.schema}.deliveries
       WHERE event_id IN (SELECT jsonb_array_elements_text($1::jsonb)) ORDER BY group_name`,
      [JSON.stringify(ids)],
    )
    for (const row of rows) {
      const groups = result.get(row.event_id) ?? []
      groups.push({ group: row.group_name, outcome: row.outcome, attempts: Number(row.attempts) })
      result.set(row.event_id, groups)
    }
    return result
  }
}

const STATEMENT_BYTES = 60 * 1024

function insertEvents(s: string): string {
  return `INSERT INTO ${s}.events (id, type, source, time, key, data, envelope, published)
    SELECT id, type, source, time, key, data, envelope, published
    FROM jsonb_to_recordset($1::jsonb) AS r(id text, type text, source text, time timestamptz, key text, data jsonb, envelope jsonb, published boolean)
    ON CONFLICT (id) DO UPDATE SET published = ${s}.events.published OR excluded.published`
}

function insertSteps(s: string): string {
  return `INSERT INTO ${s}.steps (event_id, group_name, kind, attempt, at, received_at, duration_ms, error_name, error_message, error_stack, delay_ms, reason)
    SELECT event_id, group_name, kind, attempt, at, received_at, duration_ms, error_name, error_message, error_stack, delay_ms, reason
    FROM jsonb_to_recordset($1::jsonb) AS r(event_id text, group_name text, kind text, attempt integer, at timestamptz, received_at timestamptz, duration_ms double precision, error_name text, error_message text, error_stack text, delay_ms double precision, reason text)`
}

function upsertDeliveries(s: string): string {
  return `INSERT INTO ${s}.deliveries (event_id, group_name, outcome, attempts, updated_at)
    SELECT event_id, group_name, outcome, attempts, at
    FROM jsonb_to_recordset($1::jsonb) AS r(event_id text, group_name text, outcome text, attempts integer, at timestamptz)
    ON CONFLICT (event_id, group_name) DO UPDATE SET
      outcome = CASE WHEN excluded.outcome = 'received' AND ${s}.deliveries.outcome <> 'received'
                     THEN ${s}.deliveries.outcome ELSE excluded.outcome END,
      attempts = greatest(${s}.deliveries.attempts, excluded.attempts),
      updated_at = excluded.updated_at`
}

/** Where each (event, group) stands after these steps: its last step decides. */
function latestDeliveries(steps: readonly PendingStep[]): Iterable<object> {
  const latest = new Map<
    string,
    { event_id: string; group_name: string; outcome: string; attempts: number; at: number }
  >()
  for (const step of steps) {
    const key = `${step.eventId}\u0000${step.group}`
    const previous = latest.get(key)
    latest.set(key, {
      event_id: step.eventId,
      group_name: step.group,
      outcome: outcomeOf(step, previous?.outcome),
      attempts: Math.max(step.attempt, previous?.attempts ?? 0),
      at: step.at,
    })
  }
  return [...latest.values()].map((row) => ({ ...row, at: new Date(row.at).toISOString() }))
}

/** The event as published: its envelope with the data put back. */
const ENVELOPE = `e.envelope || jsonb_build_object('data', e.data)`

function withoutData(event: Event): Omit<Event, 'data'> {
  const { data: _data, ...envelope } = event
  return envelope
}

/**
 * One shape whatever was written when: a received step whose attempt has an outcome is shown as the
 * outcome's `receivedAt`; one without (a handler still running, or a process that died) stays.
 */
function foldReceived(steps: readonly AttemptRecord[]): AttemptRecord[] {
  const outcomes = new Map<number, AttemptRecord>()
  for (const step of steps) {
    if (step.kind === 'handled' || step.kind === 'failed' || step.kind === 'duplicate-skipped') {
      outcomes.set(step.attempt, step)
    }
  }
  const receivedAt = new Map<number, string>()
  const kept = steps.filter((step) => {
    if (step.kind !== 'received' || !outcomes.has(step.attempt)) return true
    receivedAt.set(step.attempt, step.at)
    return false
  })
  return kept.map((step) =>
    step.receivedAt === undefined && receivedAt.has(step.attempt) && outcomes.get(step.attempt) === step
      ? { ...step, receivedAt: receivedAt.get(step.attempt)! }
      : step,
  )
}

function outcomeOf(step: PendingStep, previous: string | undefined): string {
  switch (step.kind) {
    case 'handled':
    case 'duplicate-skipped':
      return 'handled'
    case 'dead-lettered':
      return 'dead'
    case 'failed':
    case 'retry-scheduled':
      return 'failing'
    case 'received':
    case 'replayed':
      return previous ?? 'received'
  }
}

interface StepRow {
  event_id: string
  group_name: string
  kind: AttemptRecord['kind']
  attempt: number
  at: Date | string
  received_at: Date | string | null
  duration_ms: number | null
  error_name: string | null
  error_message: string | null
  error_stack: string | null
  delay_ms: number | null
  reason: string | null
}

function toStep(row: StepRow): AttemptRecord {
  return {
    eventId: row.event_id,
    group: row.group_name,
    kind: row.kind,
    attempt: Number(row.attempt),
    at: iso(row.at),
    ...(row.received_at === null ? {} : { receivedAt: iso(row.received_at) }),
    ...(row.duration_ms === null ? {} : { durationMs: Number(row.duration_ms) }),
    ...(row.error_name === null ? {} : { errorName: row.error_name }),
    ...(row.error_message === null ? {} : { errorMessage: row.error_message }),
    ...(row.error_stack === null ? {} : { errorStack: row.error_stack }),
    ...(row.delay_ms === null ? {} : { delayMs: Number(row.delay_ms) }),
    ...(row.reason === null ? {} : { reason: row.reason }),
  }
}

function iso(value: Date | string): string {
  return value instanceof Date ? value.toISOString() : new Date(value).toISOString()
}

function encodeCursor(time: string, id: string): string {
  return Buffer.from(JSON.stringify([time, id])).toString('base64url')
}

function decodeCursor(cursor: string): [string, string] {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown
    if (Array.isArray(value) && typeof value[0] === 'string' && typeof value[1] === 'string')
      return [value[0], value[1]]
  } catch {
    // reported below
  }
  throw new ConfigError(
    'cursor is not one this journal returned: pass nextCursor from the previous page unchanged.',
  )
}
