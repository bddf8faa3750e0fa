import { type AttemptFailure, parseJsonSafely } from '@tidings/core'

/** One stream entry as read with the Buffer variants of XREADGROUP / XCLAIM / XAUTOCLAIM / XRANGE. */
export interface StreamEntry {
  readonly id: string
  readonly fields: ReadonlyMap<string, Buffer>
}

type RawEntry = [id: Buffer | string, fields: (Buffer | string)[] | null]

const EMPTY = Buffer.alloc(0)

export function parseEntries(raw: unknown): StreamEntry[] {
  if (!Array.isArray(raw)) return []
  const entries: StreamEntry[] = []
  for (const item of raw as RawEntry[]) {
    if (!Array.isArray(item)) continue
    const [id, list] = item
    // A deleted entry read from history has no fields: nothing to deliver.
    if (!Array.isArray(list)) continue
    const fields = new Map<string, Buffer>()
    for (let i = 0; i + 1 < list.length; i += 2) {
      const value = list[i + 1]!
      fields.set(list[i]!.toString(), typeof value === 'string' ? Buffer.from(value) : value)
    }
    entries.push({ id: id.toString(), fields })
  }
  return entries
}

/** XREADGROUP reply: [[stream, entries], …] or null on timeout. */
export function parseReadReply(raw: unknown): Map<string, StreamEntry[]> {
  const result = new Map<string, StreamEntry[]>()
  if (!Array.isArray(raw)) return result
  for (const stream of raw as [Buffer | string, unknown][]) {
    if (!Array.isArray(stream)) continue
    result.set(stream[0].toString(), parseEntries(stream[1]))
  }
  return result
}

export function fieldText(entry: StreamEntry, name: string): string | undefined {
  return entry.fields.get(name)?.toString()
}

export function fieldBody(entry: StreamEntry): Buffer {
  return entry.fields.get('body') ?? EMPTY
}

/** What a retry-stream entry carries besides the body. */
export interface RetryMeta {
  readonly type?: string
  readonly id?: string
  readonly attempt: number
  readonly history: readonly AttemptFailure[]
  /** Makes delayed-set members unique when one event is retried twice at once. */
  readonly nonce?: string
}

let nonceCounter = 0
const nonceBase = Math.random().toString(36).slice(2, 10)

export function encodeRetryMeta(meta: Omit<RetryMeta, 'nonce'>): string {
  nonceCounter = (nonceCounter + 1) % Number.MAX_SAFE_INTEGER
  // JSON.stringify escapes newlines, so the meta never contains '\n' (the delayed-set separator).
  return JSON.stringify({
    ...meta,
    nonce: `${nonceBase}${Date.now().toString(36)}${nonceCounter.toString(36)}`,
  })
}

/** Reads a retry entry's meta; a damaged one degrades to attempt 1 with no history rather than blocking the group. */
export function decodeRetryMeta(text: string | undefined): RetryMeta {
  if (text === undefined) return { attempt: 1, history: [] }
  try {
    const parsed = parseJsonSafely(text) as Partial<RetryMeta> | null
    if (parsed === null || typeof parsed !== 'object') return { attempt: 1, history: [] }
    const attempt =
      typeof parsed.attempt === 'number' && Number.isInteger(parsed.attempt) && parsed.attempt >= 1
        ? parsed.attempt
        : 1
    return {
      type: typeof parsed.type === 'string' ? parsed.type : undefined,
      id: typeof parsed.id === 'string' ? parsed.id : undefined,
      attempt,
      history: Array.isArray(parsed.history) ? parsed.history : [],
    }
  } catch {
    return { attempt: 1, history: [] }
  }
}

export function decodeHistory(text: string | undefined): AttemptFailure[] {
  if (text === undefined) return []
  try {
    const parsed = parseJsonSafely(text)
    return Array.isArray(parsed) ? (parsed as AttemptFailure[]) : []
  } catch {
    return []
  }
}

/** Stream ids compare as (milliseconds, sequence). */
export function compareStreamIds(a: string, b: string): number {
  const [aMs = '0', aSeq = '0'] = a.split('-')
  const [bMs = '0', bSeq = '0'] = b.split('-')
  const ms = Number(aMs) - Number(bMs)
  return ms !== 0 ? ms : Number(aSeq) - Number(bSeq)
}
