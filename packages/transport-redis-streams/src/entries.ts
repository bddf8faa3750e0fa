import { type AttemptFailure, parseJsonSafely } from '@tidings/core/transport'

/**
 * One stream entry as Redis replies it: the id and the flat field list `[name, value, name, value…]`.
 * Deliveries read replies as strings (ioredis decodes UTF-8 in its parser, and core decodes text
 * without another copy); dead-letter listings read Buffers, because they hand back the stored bytes.
 * No Map per entry: an entry has four or five fields, and a scan is cheaper than building one.
 */
export interface StreamEntry<Value extends string | Buffer = string | Buffer> {
  readonly id: string
  readonly fields: readonly Value[]
}

type RawEntry = [id: Buffer | string, fields: (Buffer | string)[] | null]

const EMPTY = Buffer.alloc(0)

export function parseEntries<Value extends string | Buffer>(raw: unknown): StreamEntry<Value>[] {
  if (!Array.isArray(raw)) return []
  const entries: StreamEntry<Value>[] = []
  for (const item of raw as RawEntry[]) {
    if (!Array.isArray(item)) continue
    const [id, fields] = item
    // A deleted entry read from history has no fields: nothing to deliver.
    if (!Array.isArray(fields)) continue
    entries.push({ id: typeof id === 'string' ? id : id.toString(), fields: fields as Value[] })
  }
  return entries
}

/** XREADGROUP reply: [[stream, entries], …] or null on timeout. */
export function parseReadReply(raw: unknown): Map<string, StreamEntry<string>[]> {
  const result = new Map<string, StreamEntry<string>[]>()
  if (!Array.isArray(raw)) return result
  for (const stream of raw as [Buffer | string, unknown][]) {
    if (!Array.isArray(stream)) continue
    result.set(stream[0].toString(), parseEntries<string>(stream[1]))
  }
  return result
}

function fieldValue<Value extends string | Buffer>(
  entry: StreamEntry<Value>,
  name: string,
): Value | undefined {
  const { fields } = entry
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const field = fields[i]!
    if (typeof field === 'string' ? field === name : field.toString() === name) return fields[i + 1]
  }
  return undefined
}

export function fieldText(entry: StreamEntry, name: string): string | undefined {
  return fieldValue(entry, name)?.toString()
}

/** The stored bytes of the `body` field (empty when a foreign entry has none). */
export function fieldBody(entry: StreamEntry): Buffer {
  const value = fieldValue(entry, 'body')
  if (value === undefined) return EMPTY
  return typeof value === 'string' ? Buffer.from(value) : value
}

/** The `body` field as text, for entries read as strings. */
export function fieldBodyText(entry: StreamEntry<string>): string {
  return fieldValue(entry, 'body') ?? ''
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
