import { performance } from 'node:perf_hooks'
import {
  type AnyEvents,
  type Bus,
  type BusJournal,
  ConfigError,
  defaultLogger,
  type Event,
  type EventCatalogue,
  type Logger,
} from '@tidings/core'
import { SqlJournal } from './journal-store.js'
import { type AttemptEntry, OpenAttempts } from './open-attempts.js'
import { type Condition, parseQuery } from './query.js'
import type {
  AttemptRecord,
  EventTrace,
  JournalEvent,
  JournalRecord,
  Outcome,
  PendingStep,
  SearchPage,
} from './records.js'
import { RoutineAllowance } from './routine-allowance.js'
import { SaturationGauge } from './saturation.js'
import { assertSchemaName, migrate } from './schema.js'
import type { JournalStore } from './stores.js'

export interface JournalOptions {
  /** `postgresJournalStore({ connectionString })` or `pgliteJournalStore()`. */
  readonly store: JournalStore
  /** Records held while the store is slow or down; beyond it they are dropped and counted (default 10,000). */
  readonly bufferSize?: number | undefined
  /** Records per write (default 2,000). */
  readonly batchSize?: number | undefined
  /** How often the buffer is written when it is not full (default 100 ms). */
  readonly flushIntervalMs?: number | undefined
  /** Where the journal says it dropped records or lost its store (default: the bus's default logger). */
  readonly logger?: Logger | undefined
  /**
   * Deletes old events in the background, as `prune()` does: older than `maxAgeMs`, or beyond the
   * newest `maxEvents`, every `intervalMs` (default one minute). Several processes may share it.
   */
  readonly retention?: RetentionOptions | undefined
  /**
   * While this process is saturated (its event loop busy `eventLoopUtilization` of the time or more,
   * default 0.9), the journal keeps recording what goes wrong (failures, retries, dead letters,
   * duplicates, replays, attempts after the first, and their events) and leaves out the routine
   * (events published, first attempts that succeed) beyond `routinePerSecond`, counted in
   * `stats().shed`; it writes at most a fifth of the time. Recording then never takes the time handling needs. `false` records
   * everything always, at the bus's expense. Off by default for PGlite, whose own work runs on this
   * event loop and would read as saturation.
   */
  readonly loadShedding?: LoadSheddingOptions | false | undefined
}

export interface LoadSheddingOptions {
  /** From 0 to 1 (default 0.9): the share of time the event loop is busy that counts as saturated. */
  readonly eventLoopUtilization?: number | undefined
  /**
   * Routine records still written each second while saturated (default 100): a process busy with a
   * few long handlers keeps its whole record, one flooded with events keeps a sample. 0: none.
   */
  readonly routinePerSecond?: number | undefined
}

export interface RetentionOptions {
  readonly maxAgeMs?: number | undefined
  readonly maxEvents?: number | undefined
  readonly intervalMs?: number | undefined
}

export interface SearchOptions {
  /** The query language (see the README): `type:order.* AND data.customer.email = "a@b.c"`. */
  readonly query?: string | undefined
  readonly type?: string | undefined
  readonly id?: string | undefined
  readonly group?: string | undefined
  /** With `group`: where the event stands in that group; without: in any group. */
  readonly outcome?: Outcome | undefined
  readonly after?: Date | string | undefined
  readonly before?: Date | string | undefined
  /** Page size (default 50, at most 1,000). */
  readonly limit?: number | undefined
  /** `nextCursor` of the previous page. */
  readonly cursor?: string | undefined
}

export interface JournalStats {
  /** Records written to the store so far. */
  readonly written: number
  /** Records dropped because the buffer was full (the store was slow or down). */
  readonly dropped: number
  /** Records the store refused as they were (a value it cannot hold), logged and left out so the rest are written. */
  readonly rejected: number
  /**
   * Routine records left out while the process was saturated (see `loadShedding`): events published
   * and attempts that succeeded the first time. Failures are still recorded.
   */
  readonly shed: number
  /** Whether the process is saturated now, so routine records are being left out. */
  readonly saturated: boolean
  /** Records waiting in the buffer now. */
  readonly buffered: number
  /** The last write failure, if the last write failed. */
  readonly lastError: string | undefined
}

/**
 * A journal of every event and every handling step, written in the background. Give it to
 * `createBus({ journal })` (or `journal.attach(bus)`); it observes the bus's lifecycle events and
 * never blocks or fails handling: a slow or down store costs at most `bufferSize` records.
 */
export function createJournal(options: JournalOptions): Journal {
  return new Journal(options)
}

export class Journal implements BusJournal {
  private readonly buffer: JournalRecord[] = []
  private readonly bufferSize: number
  private readonly batchSize: number
  private readonly flushIntervalMs: number
  private readonly logger: Logger
  private readonly store: JournalStore
  private opened: Promise<SqlJournal & { close(): Promise<void> }> | undefined
  private timer: NodeJS.Timeout | undefined
  private saturationTimer: NodeJS.Timeout | undefined
  private retentionTimer: NodeJS.Timeout | undefined
  private retentionFailed = false
  private flushing: Promise<void> | undefined
  private written = 0
  private dropped = 0
  private rejected = 0
  private shed = 0
  private shedding = false
  private readonly saturation: SaturationGauge | undefined
  private readonly routineAllowance: RoutineAllowance | undefined
  /** While shedding, the writer rests after each batch for four times what it took. */
  private restUntil = 0
  /** Records at the head of the buffer handed to the store, not yet taken off it. */
  private inFlight = 0
  /** Replays sent from here whose new chain has not ended: never routine, even while saturated. */
  private readonly replaying = new Set<string>()
  private lastSaturationWarning = Number.NEGATIVE_INFINITY
  private readonly unencodable = new WeakSet<Event>()
  /** Records per write while a refused record is searched for: halved on each refusal. */
  private probeSize = 0
  private lastError: string | undefined
  private warnedDrop = false
  private closed = false
  private retryAt = 0
  private retryDelayMs = 0
  private closing: Promise<void> | undefined
  private readonly buses = new Set<Bus<AnyEvents>>()
  private recentEvents = new Set<string>()
  private olderEvents = new Set<string>()
  private openAttempts: OpenAttempts

  constructor(options: JournalOptions) {
    if (options === null || typeof options !== 'object' || typeof options.store?.open !== 'function') {
      throw new ConfigError(
        'createJournal({ store }) needs a store: postgresJournalStore({ connectionString }) or pgliteJournalStore().',
      )
    }
    this.store = options.store
    assertSchemaName(options.store.schema)
    this.bufferSize = positive(options.bufferSize, 10_000, 'bufferSize')
    this.batchSize = positive(options.batchSize, 2_000, 'batchSize')
    this.flushIntervalMs = positive(options.flushIntervalMs, 100, 'flushIntervalMs')
    this.logger = options.logger ?? defaultLogger
    this.openAttempts = new OpenAttempts(this.bufferSize)
    const shedding = loadShedding(options.loadShedding, options.store)
    this.saturation = shedding?.gauge
    this.routineAllowance = shedding?.allowance
    if (options.retention !== undefined) this.retain(options.retention)
  }

  /** Observe a bus: every event it publishes or receives, and every handling step of its listeners. */
  attach<Events extends EventCatalogue>(observed: Bus<Events>): void {
    const bus = observed as unknown as Bus<AnyEvents>
    if (this.buses.has(bus)) return
    this.buses.add(bus)
    const now = Date.now
    bus.on('published', ({ event }) => {
      if (this.shedding && !this.routineAllowance?.take()) this.shed += 1
      else this.recordEvent(event, true)
    })
    bus.on('received', ({ event, group, attempt }) => {
      // Saturated: a first attempt's received step within the allowance, or none, and then its
      // outcome says when it was received, should it be kept.
      if (this.shedding && (attempt > 1 || !this.routineAllowance?.take())) return
      this.recordEvent(event, false)
      this.received(event.id, group, attempt, now())
    })
    bus.on('handled', ({ event, group, attempt, durationMs }) =>
      this.outcome(event, { eventId: event.id, group, kind: 'handled', attempt, at: now(), durationMs }),
    )
    bus.on('failed', ({ event, group, attempt, error, durationMs }) =>
      this.outcome(event, {
        eventId: event.id,
        group,
        kind: 'failed',
        attempt,
        at: now(),
        durationMs,
        ...errorFields(error),
      }),
    )
    bus.on('retry-scheduled', ({ event, group, nextAttempt, delayMs }) => {
      if (this.shedding) this.recordEvent(event, false)
      this.step({
        eventId: event.id,
        group,
        kind: 'retry-scheduled',
        attempt: nextAttempt,
        at: now(),
        delayMs,
      })
    })
    bus.on('dead-lettered', ({ event, id, group, reason, history }) => {
      if (this.replaying.size > 0) this.replayEnded(group, id)
      if (event) this.recordEvent(event, false)
      this.step({
        eventId: id,
        group,
        kind: 'dead-lettered',
        attempt: Math.max(1, history.length),
        at: now(),
        reason,
      })
    })
    bus.on('duplicate-skipped', ({ event, group }) => {
      if (this.shedding) this.recordEvent(event, false)
      this.step({ eventId: event.id, group, kind: 'duplicate-skipped', attempt: 0, at: now() })
    })
    this.start()
  }

  /** Search newest first; see SearchOptions and the README for the query language. */
  async search(options: SearchOptions = {}): Promise<SearchPage> {
    const limit = options.limit ?? 50
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
      throw new ConfigError(
        `journal.search({ limit }) must be a whole number from 1 to 1000, got ${String(limit)}.`,
      )
    }
    const condition = combine([
      options.query === undefined ? undefined : parseQuery(String(options.query)),
      options.type === undefined ? undefined : { kind: 'type', pattern: options.type },
      options.id === undefined ? undefined : { kind: 'field', field: 'id', value: options.id },
      options.outcome === undefined
        ? options.group === undefined
          ? undefined
          : { kind: 'group', group: options.group }
        : {
            kind: 'outcome',
            outcome: options.outcome,
            ...(options.group === undefined ? {} : { group: options.group }),
          },
      options.after === undefined
        ? undefined
        : { kind: 'time', bound: 'after', at: toIso(options.after, 'after') },
      options.before === undefined
        ? undefined
        : { kind: 'time', bound: 'before', at: toIso(options.before, 'before') },
    ])
    return (await this.open()).search(condition, limit, options.cursor)
  }

  /** One event with where it stands in each group; undefined when the journal never saw it. */
  async event(id: string): Promise<JournalEvent | undefined> {
    return (await this.open()).event(assertId(id))
  }

  /** Every step of one event, per group, oldest first. */
  async trace(id: string): Promise<EventTrace | undefined> {
    return (await this.open()).trace(assertId(id))
  }

  /**
   * Send an event again to one group only, as a new attempt chain (attempt 1), whatever became of it:
   * `bus.sendToGroup`. The journal records the replay in the group's trace.
   */
  async replay<Events extends EventCatalogue>(id: string, group: string, bus: Bus<Events>): Promise<void> {
    await this.flush() // an event seen a moment ago may still be in the buffer
    const found = await this.event(id)
    if (!found) throw new ConfigError(`The journal has no event with id ${id}: search for it first.`)
    // Recorded before sending, so the trace reads "replayed", then the new attempt's steps.
    const replayed: JournalRecord = {
      kind: 'attempt',
      attempt: { eventId: id, group, kind: 'replayed', attempt: 1, at: Date.now() },
    }
    this.buffer.push(replayed)
    this.replayStarted(group, id)
    try {
      await bus.sendToGroup(group, found.event)
    } catch (error) {
      const index = this.buffer.indexOf(replayed)
      if (index >= 0) this.buffer.splice(index, 1)
      this.replayEnded(group, id)
      throw error
    }
    await this.flush()
  }

  /** Deletes old events: older than `maxAgeMs`, or beyond the newest `maxEvents`. Returns how many. */
  async prune(options: { readonly maxAgeMs?: number; readonly maxEvents?: number }): Promise<number> {
    const { maxAgeMs, maxEvents } = options ?? {}
    if (maxAgeMs === undefined && maxEvents === undefined) {
      throw new ConfigError('journal.prune() needs maxAgeMs, maxEvents or both.')
    }
    if (maxAgeMs !== undefined) positive(maxAgeMs, 1, 'maxAgeMs')
    if (maxEvents !== undefined && !(Number.isInteger(maxEvents) && maxEvents >= 0)) {
      throw new ConfigError(
        `journal.prune({ maxEvents }) must be a whole number >= 0, got ${String(maxEvents)}.`,
      )
    }
    return (await this.open()).prune({
      before: maxAgeMs === undefined ? undefined : new Date(Date.now() - maxAgeMs).toISOString(),
      keep: maxEvents,
    })
  }

  stats(): JournalStats {
    return {
      written: this.written,
      dropped: this.dropped,
      rejected: this.rejected,
      shed: this.shed,
      saturated: this.shedding,
      buffered: this.buffer.length,
      lastError: this.lastError,
    }
  }

  /** Write what is buffered now (tests, shutdown). Never rejects: a failed write stays buffered. */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing
    if (this.buffer.length === 0) return
    this.flushing = this.writeBuffered(false).finally(() => {
      this.flushing = undefined
    })
    await this.flushing
  }

  /**
   * The timer's and a full batch's write: not while a failed store waits for its retry, nor while
   * the writer rests, nor while the process looks busy and may be becoming saturated (what is
   * waiting then would be left out: writing it first would cost what shedding saves).
   */
  private flushInBackground(): void {
    if (this.flushing || this.buffer.length === 0) return
    if (!this.shedding && this.saturation?.busy) return
    if (Date.now() < this.retryAt || performance.now() < this.restUntil) return
    this.flushing = this.writeBuffered(true).finally(() => {
      this.flushing = undefined
    })
  }

  /** Flush (up to 5 s), then close the store. Called by the bus at the end of its close(). */
  async close(): Promise<void> {
    if (this.closing) return this.closing
    this.closing = this.shutdown()
    return this.closing
  }

  private async shutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    if (this.saturationTimer) clearInterval(this.saturationTimer)
    if (this.retentionTimer) clearInterval(this.retentionTimer)
    const deadline = Date.now() + 5_000
    while (this.buffer.length > 0 && Date.now() < deadline && this.lastError === undefined) await this.flush()
    if (this.buffer.length > 0) {
      this.logger.warn(
        { records: this.buffer.length, store: this.store.description },
        'journal: closing with records the store did not take; they are lost',
      )
    }
    this.closed = true
    const opened = this.opened
    this.opened = undefined
    if (opened) await (await opened.catch(() => undefined))?.close()
  }

  /** Buffers a record; false when it was dropped (closed, or the buffer is full). */
  private record(record: JournalRecord | undefined): boolean {
    if (this.closed) return false
    if (this.buffer.length >= this.bufferSize || record === undefined) {
      this.dropped += 1
      if (!this.warnedDrop) {
        this.warnedDrop = true
        this.logger.warn(
          { bufferSize: this.bufferSize, store: this.store.description, lastError: this.lastError },
          'journal: the store is not keeping up; dropping journal records (counted in journal.stats().dropped) — handling goes on',
        )
      }
      return false
    }
    this.buffer.push(record)
    // A full batch goes out at once while the store is healthy; a failing store is retried by the
    // timer only, not on every record.
    if (this.buffer.length >= this.batchSize && !this.flushing && this.lastError === undefined)
      this.flushInBackground()
    return true
  }

  private step(step: PendingStep): void {
    this.record({ kind: 'attempt', attempt: step })
  }

  /** An event row once per id (a process that publishes and handles it sees it twice). */
  private recordEvent(event: Event, published: boolean): void {
    if (this.recentEvents.has(event.id) || this.olderEvents.has(event.id)) return
    if (this.buffer.length >= this.bufferSize) {
      this.record(undefined) // dropped; and not remembered, so a later sighting may record it
      return
    }
    // Two generations instead of evicting one by one: deleting a Set's oldest entry again and
    // again makes V8 skip ever more tombstones to find the next one.
    if (this.recentEvents.size >= RECENT_EVENTS) {
      this.olderEvents = this.recentEvents
      this.recentEvents = new Set()
    }
    this.recentEvents.add(event.id)
    this.record({ kind: 'event', event, published })
  }

  /** A received step waits in the buffer; its attempt's outcome usually arrives before it is written. */
  private received(eventId: string, group: string, attempt: number, at: number): void {
    if (this.buffer.length >= this.bufferSize) {
      this.record(undefined)
      return
    }
    const entry: AttemptEntry = {
      kind: 'attempt',
      attempt: { eventId, group, kind: 'received', attempt, at },
    }
    if (this.record(entry)) this.openAttempts.add(entry)
  }

  /**
   * The outcome of an attempt carries its receive time and takes the place of the received step
   * while that one is still unwritten, so a handled event costs one buffered record and one row.
   */
  private outcome(event: Event, step: PendingStep): void {
    const received = this.openAttempts.take(step.group, step.eventId, step.attempt)
    if (received !== undefined && !received.sent && !received.shed) {
      received.attempt = { ...step, receivedAt: received.attempt.at }
      return
    }
    const receivedAt =
      received?.attempt.at ??
      (this.shedding && step.durationMs !== undefined ? step.at - Math.round(step.durationMs) : undefined)
    // Saturated, or received while it was: a first attempt that succeeded is routine, left out
    // (unless its received step is written already); anything else is what an operator will look
    // for, recorded with its event, whose row may have been left out.
    if (this.shedding || received?.shed) {
      if (
        routine(step) &&
        !(received?.sent && !received.shed) &&
        !(this.replaying.size > 0 && this.replaying.has(replayKey(step.group, step.eventId)))
      ) {
        this.shed += 1
        return
      }
      this.recordEvent(event, false)
    }
    if (this.replaying.size > 0 && step.kind === 'handled') this.replayEnded(step.group, step.eventId)
    this.step(receivedAt === undefined ? step : { ...step, receivedAt })
  }

  private replayStarted(group: string, eventId: string): void {
    // Replays are an operator's, a handful; should their chains end in another process, forget them.
    if (this.replaying.size >= 1_000) this.replaying.clear()
    this.replaying.add(replayKey(group, eventId))
  }

  private replayEnded(group: string, eventId: string): void {
    this.replaying.delete(replayKey(group, eventId))
  }

  /**
   * On becoming saturated the routine records still waiting are left out too: writing them then
   * would cost the process what shedding saves. The batch in flight is not touched.
   */
  private shedWaitingRoutine(): void {
    const waiting = this.buffer.splice(this.inFlight)
    const keptEvents = new Set<string>()
    for (const record of waiting) {
      if (record.kind === 'attempt' && !routine(record.attempt)) keptEvents.add(record.attempt.eventId)
    }
    for (const record of waiting) {
      if (record.kind === 'attempt' ? !routine(record.attempt) : keptEvents.has(record.event.id)) {
        this.buffer.push(record)
        continue
      }
      this.shed += 1
      if (record.kind === 'event') {
        // Recorded after all, should it fail later.
        this.recentEvents.delete(record.event.id)
        this.olderEvents.delete(record.event.id)
      } else if (record.attempt.kind === 'received') {
        record.shed = true
      }
    }
  }

  /** Validates now (a typo must not wait a minute to show), then prunes on a timer that never keeps the process up. */
  private retain(retention: RetentionOptions): void {
    if (retention === null || typeof retention !== 'object') {
      throw new ConfigError('createJournal({ retention }) takes { maxAgeMs, maxEvents, intervalMs }.')
    }
    const { maxAgeMs, maxEvents } = retention
    if (maxAgeMs === undefined && maxEvents === undefined) {
      throw new ConfigError('createJournal({ retention }) needs maxAgeMs, maxEvents or both.')
    }
    if (maxAgeMs !== undefined) positive(maxAgeMs, 1, 'retention.maxAgeMs')
    if (maxEvents !== undefined && !(Number.isInteger(maxEvents) && maxEvents >= 0)) {
      throw new ConfigError(
        `createJournal({ retention: { maxEvents } }) must be a whole number >= 0, got ${String(maxEvents)}.`,
      )
    }
    const intervalMs = positive(retention.intervalMs, 60_000, 'retention.intervalMs')
    const limits = {
      ...(maxAgeMs === undefined ? {} : { maxAgeMs }),
      ...(maxEvents === undefined ? {} : { maxEvents }),
    }
    let pruning = false
    this.retentionTimer = setInterval(() => {
      if (pruning || this.closing) return
      pruning = true
      this.prune(limits)
        .then(() => {
          this.retentionFailed = false
        })
        .catch((error: unknown) => {
          // A store that is down is said by the writes already; a failing prune once per outage.
          if (!this.retentionFailed) {
            this.retentionFailed = true
            this.logger.warn(
              { err: error, store: this.store.description },
              'journal: retention could not prune',
            )
          }
        })
        .finally(() => {
          pruning = false
        })
    }, intervalMs)
    this.retentionTimer.unref()
  }

  private start(): void {
    if (this.timer || this.closing) return
    this.timer = setInterval(() => this.flushInBackground(), this.flushIntervalMs)
    this.timer.unref()
    const gauge = this.saturation
    if (gauge === undefined) return
    gauge.reset()
    // Its own timer: a long flushIntervalMs must not make saturation slow to see.
    this.saturationTimer = setInterval(() => {
      this.routineAllowance?.earn()
      if (gauge.sample()) this.saturationChanged(gauge)
    }, SATURATION_SAMPLE_MS)
    this.saturationTimer.unref()
  }

  private saturationChanged(gauge: SaturationGauge): void {
    this.shedding = gauge.saturated
    const utilization = Math.round(gauge.utilization * 100) / 100
    if (this.shedding) {
      this.shedWaitingRoutine()
      // Once a minute at most: a process on the edge goes in and out.
      if (Date.now() - this.lastSaturationWarning < 60_000) return
      this.lastSaturationWarning = Date.now()
      this.logger.warn(
        { eventLoopUtilization: utilization, shed: this.shed },
        'journal: this process is saturated; recording failures, retries and dead letters only, leaving out routine records (journal.stats().shed) until it is not',
      )
    } else {
      this.logger.debug(
        { eventLoopUtilization: utilization, shed: this.shed },
        'journal: the process is no longer saturated; recording everything again',
      )
    }
  }

  /** In the background while saturated, one batch and then a rest: writing takes at most a fifth of the time. */
  private async writeBuffered(background: boolean): Promise<void> {
    while (this.buffer.length > 0) {
      const batch = this.buffer.slice(0, this.probeSize || this.batchSize)
      let startedAt = 0
      let leftOut = 0
      for (const record of batch) if (record.kind === 'attempt') record.sent = true
      this.inFlight = batch.length
      try {
        const store = await this.open()
        startedAt = performance.now() // the write, not opening and migrating the store first
        await store.write(batch, (event, error) => {
          leftOut += 1
          // Counted once, though a failed write may meet it again.
          if (this.unencodable.has(event)) return
          this.unencodable.add(event)
          this.reject(event.id, 'event', error)
        })
        this.inFlight = 0
      } catch (error) {
        this.inFlight = 0
        if (refusedContent(error)) {
          this.isolateRefused(batch, error)
          continue
        }
        if (this.lastError === undefined) {
          this.logger.error(
            { err: error, store: this.store.description },
            'journal: writing to the store failed; records stay buffered and are written once it is back',
          )
        }
        this.lastError = (error as Error)?.message ?? String(error)
        // A store that is down is tried again after a growing pause (up to 30 s), not every tick.
        this.retryDelayMs = Math.min(30_000, Math.max(250, this.retryDelayMs * 2))
        this.retryAt = Date.now() + this.retryDelayMs
        return
      }
      this.buffer.splice(0, batch.length)
      this.written += batch.length - leftOut
      if (this.probeSize > 0) this.probeSize = this.probeSize * 2 >= this.batchSize ? 0 : this.probeSize * 2
      this.lastError = undefined
      this.retryDelayMs = 0
      this.warnedDrop = false
      if (background && this.shedding) {
        const now = performance.now()
        this.restUntil = now + 4 * (now - startedAt)
        return
      }
    }
  }

  /**
   * The store refused something in this batch as it was, and would refuse it again: the batch is
   * halved until the record is alone, which is then left out, counted and logged, so one bad value
   * cannot hold up every record behind it.
   */
  private isolateRefused(batch: readonly JournalRecord[], error: unknown): void {
    if (batch.length > 1) {
      this.probeSize = Math.ceil(batch.length / 2)
      return
    }
    const [record] = batch
    this.buffer.splice(0, 1)
    this.probeSize = 1
    if (record === undefined) return
    if (record.kind === 'event') this.reject(record.event.id, 'event', error)
    else this.reject(record.attempt.eventId, `${record.attempt.kind} step`, error)
  }

  private reject(eventId: string, what: string, error: unknown): void {
    this.rejected += 1
    // Each of the first few by name; after that a line per thousand, should a rule of the database
    // (or a bug) refuse everything.
    if (this.rejected > REJECTIONS_LOGGED_EACH && this.rejected % 1000 !== 0) return
    this.logger.warn(
      { err: error, store: this.store.description, eventId, record: what, rejected: this.rejected },
      'journal: a record could not be stored as it was; it is left out (journal.stats().rejected) and the rest are written',
    )
  }

  private open(): Promise<SqlJournal & { close(): Promise<void> }> {
    if (this.closed && this.opened === undefined) {
      return Promise.reject(
        new ConfigError(
          'This journal is closed (closing its bus closes it): create a new one on the same store to read it.',
        ),
      )
    }
    if (this.opened === undefined) {
      const opening = (async () => {
        const client = await this.store.open()
        try {
          await migrate(client, this.store.schema)
        } catch (error) {
          await client.close().catch(() => {})
          throw error
        }
        return Object.assign(new SqlJournal(client, this.store.schema), { close: () => client.close() })
      })()
      this.opened = opening
      // A store that was down is opened again by the next write or query.
      opening.catch(() => {
        if (this.opened === opening) this.opened = undefined
      })
    }
    return this.opened
  }
}

const REJECTIONS_LOGGED_EACH = 10

/** How often the event loop's utilization is sampled while load shedding is on. */
const SATURATION_SAMPLE_MS = 50

/** Event ids remembered to write each event row once. */
const RECENT_EVENTS = 2_000

/**
 * A refusal of what was sent, not of the store being unavailable: PostgreSQL's data exceptions
 * (SQLSTATE class 22), integrity violations (23) and program limits such as nesting too deep (54).
 */
function refusedContent(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' && /^(22|23|54)/.test(code)
}

function replayKey(group: string, eventId: string): string {
  return `${group}\n${eventId}`
}

/** What a saturated process leaves out: receiving, and a first attempt that succeeded. */
function routine(step: PendingStep): boolean {
  return step.kind === 'received' || (step.kind === 'handled' && step.attempt === 1)
}

function loadShedding(
  options: LoadSheddingOptions | false | undefined,
  store: JournalStore,
): { gauge: SaturationGauge; allowance: RoutineAllowance } | undefined {
  if (options === false || (options === undefined && store.embedded)) return undefined
  if (options !== undefined && (options === null || typeof options !== 'object')) {
    throw new ConfigError(
      `createJournal({ loadShedding }) is false or { eventLoopUtilization, routinePerSecond }, got ${String(options)}.`,
    )
  }
  const threshold = options?.eventLoopUtilization ?? 0.9
  if (typeof threshold !== 'number' || !(threshold > 0 && threshold <= 1)) {
    throw new ConfigError(
      `createJournal({ loadShedding: { eventLoopUtilization } }) is a share of time above 0 and at most 1 (such as 0.9), got ${String(threshold)}.`,
    )
  }
  const perSecond = options?.routinePerSecond ?? 100
  if (typeof perSecond !== 'number' || !Number.isFinite(perSecond) || perSecond < 0) {
    throw new ConfigError(
      `createJournal({ loadShedding: { routinePerSecond } }) is a number of records, 0 or more (such as 100), got ${String(perSecond)}.`,
    )
  }
  return { gauge: new SaturationGauge(threshold), allowance: new RoutineAllowance(perSecond) }
}

function combine(conditions: readonly (Condition | undefined)[]): Condition | undefined {
  const present = conditions.filter((condition): condition is Condition => condition !== undefined)
  if (present.length === 0) return undefined
  return present.length === 1 ? present[0] : { kind: 'and', terms: present }
}

function errorFields(error: unknown): Pick<AttemptRecord, 'errorName' | 'errorMessage' | 'errorStack'> {
  const candidate = error as { name?: unknown; message?: unknown; stack?: unknown } | null
  const stack =
    typeof candidate?.stack === 'string' ? candidate.stack.split('\n').slice(0, 6).join('\n') : undefined
  return {
    errorName: typeof candidate?.name === 'string' ? candidate.name : 'Error',
    errorMessage: typeof candidate?.message === 'string' ? candidate.message : String(error),
    ...(stack === undefined ? {} : { errorStack: stack }),
  }
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new ConfigError(`createJournal({ ${name} }) must be a positive number, got ${String(value)}.`)
  }
  return value
}

function toIso(value: Date | string, name: string): string {
  const time = value instanceof Date ? value.getTime() : Date.parse(value)
  if (Number.isNaN(time))
    throw new ConfigError(`journal.search({ ${name} }) must be a Date or an ISO time, got ${String(value)}.`)
  return new Date(time).toISOString()
}

function assertId(id: unknown): string {
  if (typeof id !== 'string' || id.length === 0 || id.length > 200) {
    throw new ConfigError(`An event id is a non-empty string (as in event.id), got ${JSON.stringify(id)}.`)
  }
  return id
}
