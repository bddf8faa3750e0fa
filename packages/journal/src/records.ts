import type { Event } from '@tidings/core'

/** What happened to one event in one group, one row per step. */
export type AttemptKind =
  | 'received'
  | 'handled'
  | 'failed'
  | 'retry-scheduled'
  | 'dead-lettered'
  | 'duplicate-skipped'
  | 'replayed'

export interface AttemptRecord {
  readonly eventId: string
  readonly group: string
  readonly kind: AttemptKind
  /** 1-based attempt the step belongs to (the next attempt's number for `retry-scheduled`). */
  readonly attempt: number
  /** RFC 3339 */
  readonly at: string
  /**
   * When the attempt was received, on its outcome step (handled, failed, duplicate skipped): the
   * separate `received` step is folded into it when both are written together.
   */
  readonly receivedAt?: string | undefined
  readonly durationMs?: number | undefined
  readonly errorName?: string | undefined
  readonly errorMessage?: string | undefined
  /** The first frames only. */
  readonly errorStack?: string | undefined
  readonly delayMs?: number | undefined
  readonly reason?: string | undefined
}

/** A step as buffered: times as epoch milliseconds (formatted in the background, when written). */
export interface PendingStep extends Omit<AttemptRecord, 'at' | 'receivedAt'> {
  readonly at: number
  readonly receivedAt?: number | undefined
}

/** A buffered write: an event seen (published or received), or a step of its handling. */
export type JournalRecord =
  | { readonly kind: 'event'; readonly event: Event; readonly published: boolean }
  | {
      readonly kind: 'attempt'
      /** A received step becomes its attempt's outcome in place while it waits in the buffer. */
      attempt: PendingStep
      /** Handed to the store: too late to fold its outcome into it. */
      sent?: boolean
      /** A received step left out when the process became saturated: its attempt counts as shed. */
      shed?: boolean
    }

/** Where an event stands in one group, from its last step. */
export type Outcome = 'handled' | 'failing' | 'dead'

export interface JournalEvent {
  readonly event: Event
  /** When the journal first saw it (RFC 3339). */
  readonly recordedAt: string
  /** Per group that received it: where it stands now. */
  readonly groups: readonly {
    readonly group: string
    readonly outcome: Outcome | 'received'
    readonly attempts: number
  }[]
}

export interface EventTrace {
  readonly event: Event
  readonly groups: readonly {
    readonly group: string
    readonly outcome: Outcome | 'received'
    /** Every step, oldest first. */
    readonly steps: readonly AttemptRecord[]
  }[]
}

export interface SearchPage {
  readonly events: readonly JournalEvent[]
  /** Pass as `cursor` for the next (older) page; undefined on the last page. */
  readonly nextCursor: string | undefined
}
