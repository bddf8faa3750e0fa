/** `@tidings/journal`: every event and handling step, searchable, replayable to one group. */
export { JournalQueryError } from './errors.js'
export {
  createJournal,
  Journal,
  type JournalOptions,
  type JournalStats,
  type LoadSheddingOptions,
  type RetentionOptions,
  type SearchOptions,
} from './journal.js'
export { type Condition, parseQuery } from './query.js'
export type { AttemptKind, AttemptRecord, EventTrace, JournalEvent, Outcome, SearchPage } from './records.js'
export {
  type JournalStore,
  type PgliteStoreOptions,
  type PostgresStoreOptions,
  pgliteJournalStore,
  postgresJournalStore,
} from './stores.js'
