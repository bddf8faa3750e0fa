import type { AttemptFailure } from '../transport/transport.js'

/** Messages are cut to this length once stacks alone were not enough. */
const SHORT_MESSAGE_LENGTH = 500

/**
 * The attempt history, made to fit a transport's metadata budget (`historyBytes`, the UTF-8 bytes of
 * its JSON): first stacks go and messages are shortened, then the oldest records, never the newest,
 * which says why the event is where it is. Returns the same array when it already fits.
 */
export function fitHistory(history: readonly AttemptFailure[], maxBytes: number): readonly AttemptFailure[] {
  if (!Number.isFinite(maxBytes) || history.length === 0) return history
  if (jsonBytes(history) <= maxBytes) return history
  let trimmed: AttemptFailure[] = history.map((failure) => ({
    ...failure,
    error: { name: failure.error.name, message: failure.error.message.slice(0, SHORT_MESSAGE_LENGTH) },
  }))
  while (trimmed.length > 1 && jsonBytes(trimmed) > maxBytes) trimmed = trimmed.slice(1)
  if (jsonBytes(trimmed) > maxBytes) {
    // One record still too big for a tiny budget: keep its name and as much message as fits.
    const [last] = trimmed as [AttemptFailure]
    const room = Math.max(
      0,
      maxBytes - jsonBytes([{ ...last, error: { name: last.error.name, message: '' } }]),
    )
    trimmed = [{ ...last, error: { name: last.error.name, message: last.error.message.slice(0, room) } }]
  }
  return trimmed
}

function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value), 'utf8')
}
