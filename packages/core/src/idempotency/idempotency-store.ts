/**
 * Remembers event ids a consumer group has handled (SPEC G15). Keys are per group, so groups and
 * services sharing a store never collide. Core ships a memory store; the Redis transport a Redis one.
 */
export interface IdempotencyStore {
  has(group: string, eventId: string): Promise<boolean>
  remember(group: string, eventId: string, ttlMs: number): Promise<void>
}

export interface IdempotencyOptions {
  readonly store: IdempotencyStore
  /** How long a handled id is remembered (default 24 h). */
  readonly windowMs?: number
}

/** In-process store with expiry; bounded by `maxEntries` (oldest dropped first). */
export function memoryIdempotencyStore(
  options: { maxEntries?: number; now?: () => number } = {},
): IdempotencyStore {
  const maxEntries = options.maxEntries ?? 100_000
  const now = options.now ?? Date.now
  const expiries = new Map<string, number>() // insertion order = age order
  return {
    async has(group, eventId) {
      const key = `${group}\u0000${eventId}`
      const expiresAt = expiries.get(key)
      if (expiresAt === undefined) return false
      if (expiresAt <= now()) {
        expiries.delete(key)
        return false
      }
      return true
    },
    async remember(group, eventId, ttlMs) {
      const key = `${group}\u0000${eventId}`
      expiries.delete(key)
      expiries.set(key, now() + ttlMs)
      while (expiries.size > maxEntries) {
        const oldest = expiries.keys().next().value as string
        expiries.delete(oldest)
      }
    },
  }
}
