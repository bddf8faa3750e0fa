/**
 * What a claim found: `claimed` (this copy runs the handler), `handled` (an earlier copy succeeded
 * within the window: skip), or `in-progress` (another copy is running right now: skip; if that copy
 * fails, its own retry carries the event, so nothing is lost).
 */
export type IdempotencyClaim = 'claimed' | 'handled' | 'in-progress'

/**
 * Remembers event ids a consumer group has handled (SPEC G15), claiming each before its handler runs
 * so two copies delivered at once never both run. Keys are per group, so groups and services sharing
 * a store never collide. Core ships a memory store; the Redis transport a Redis one.
 *
 * What a store promises: `claim` is atomic (of two concurrent claims for one id, one gets `claimed`);
 * a claim lapses after its lease (a crashed process does not block the id for ever); `confirm` turns
 * it into `handled` for the window; `release` frees it only if it is still this claim.
 */
export interface IdempotencyStore {
  /** Claim `eventId` for `leaseMs` (as long as the handler may run). */
  claim(group: string, eventId: string, leaseMs: number): Promise<IdempotencyClaim>
  /** The handler succeeded: remember the id as handled for `windowMs`. */
  confirm(group: string, eventId: string, windowMs: number): Promise<void>
  /** The handler failed: free the claim so the retry can run. */
  release(group: string, eventId: string): Promise<void>
}

export interface IdempotencyOptions {
  readonly store: IdempotencyStore
  /** How long a handled id is remembered (default 24 h). */
  readonly windowMs?: number | undefined
}

interface Entry {
  readonly state: 'running' | 'handled'
  readonly expiresAt: number
}

/** In-process store with expiry; bounded by `maxEntries` (oldest dropped first). */
export function memoryIdempotencyStore(
  options: { maxEntries?: number; now?: () => number } = {},
): IdempotencyStore {
  const maxEntries = options.maxEntries ?? 100_000
  const now = options.now ?? Date.now
  const entries = new Map<string, Entry>() // insertion order = age order
  const put = (key: string, entry: Entry): void => {
    entries.delete(key)
    entries.set(key, entry)
    while (entries.size > maxEntries) entries.delete(entries.keys().next().value as string)
  }
  return {
    async claim(group, eventId, leaseMs) {
      const key = `${group}\u0000${eventId}`
      const current = entries.get(key)
      if (current !== undefined && current.expiresAt > now())
        return current.state === 'handled' ? 'handled' : 'in-progress'
      put(key, { state: 'running', expiresAt: now() + leaseMs })
      return 'claimed'
    },
    async confirm(group, eventId, windowMs) {
      put(`${group}\u0000${eventId}`, { state: 'handled', expiresAt: now() + windowMs })
    },
    async release(group, eventId) {
      const key = `${group}\u0000${eventId}`
      if (entries.get(key)?.state === 'running') entries.delete(key)
    },
  }
}
