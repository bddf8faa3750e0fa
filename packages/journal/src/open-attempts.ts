import type { JournalRecord } from './records.js'

export type AttemptEntry = Extract<JournalRecord, { kind: 'attempt' }>

/**
 * Received steps by group and event id until their outcome arrives. Keyed by the strings the
 * lifecycle events carry (their hashes are computed once per string), not by a concatenated key:
 * hashing a new string twice per delivery showed up in the journal's cost. Attempts whose outcome
 * never comes (a process stopped mid-handler) are forgotten a generation later.
 */
export class OpenAttempts {
  private current = new Map<string, Map<string, AttemptEntry>>()
  private older = new Map<string, Map<string, AttemptEntry>>()
  private size = 0

  constructor(private readonly generationSize: number) {}

  add(entry: AttemptEntry): void {
    if (this.size >= this.generationSize) {
      this.older = this.current
      this.current = new Map()
      this.size = 0
    }
    const { group, eventId } = entry.attempt
    let byEvent = this.current.get(group)
    if (!byEvent) {
      byEvent = new Map()
      this.current.set(group, byEvent)
    }
    byEvent.set(eventId, entry)
    this.size += 1
  }

  /** The received step of this attempt, forgotten here; undefined when it is not known (any more). */
  take(group: string, eventId: string, attempt: number): AttemptEntry | undefined {
    const byEvent = this.current.get(group)
    const entry = byEvent?.get(eventId)
    if (entry !== undefined && entry.attempt.attempt === attempt) {
      byEvent!.delete(eventId)
      this.size -= 1
      return entry
    }
    const olderByEvent = this.older.get(group)
    const olderEntry = olderByEvent?.get(eventId)
    if (olderEntry !== undefined && olderEntry.attempt.attempt === attempt) {
      olderByEvent!.delete(eventId)
      return olderEntry
    }
    return undefined
  }
}
