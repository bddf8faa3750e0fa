import { type MsgHdrs, headers as newHeaders } from '@nats-io/transport-node'
import { type AttemptFailure, parseJsonSafely } from '@tidings/core/transport'

/**
 * Headers this transport writes. A retry copy carries the attempt, the history and when it is due;
 * a dead letter carries its record. The event itself travels untouched in the body.
 */
export const HEADER = {
  attempt: 'Tidings-Attempt',
  history: 'Tidings-History',
  dueAt: 'Tidings-Due-At',
  delayed: 'Tidings-Delayed',
  id: 'Tidings-Id',
  group: 'Tidings-Group',
  reason: 'Tidings-Reason',
  deadLetteredAt: 'Tidings-Dead-Lettered-At',
} as const

/** NATS header values are one line of bytes: JSON with every non-ASCII character escaped. */
export function headerJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[\u007f-\uffff]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  )
}

/** One line, ASCII: reasons and ids come from users and errors. */
export function headerText(value: string): string {
  return headerJson(value).slice(1, -1)
}

export function readHeaderText(value: string | undefined): string {
  if (value === undefined || value === '') return ''
  const parsed = tryJson(`"${value}"`)
  return typeof parsed === 'string' ? parsed : value
}

/** A history header someone else wrote may be anything: what does not parse is an empty history. */
export function readHistory(value: string | undefined): AttemptFailure[] {
  if (value === undefined || value === '') return []
  const parsed = tryJson(value)
  return Array.isArray(parsed) ? (parsed as AttemptFailure[]) : []
}

function tryJson(text: string): unknown {
  try {
    return parseJsonSafely(text)
  } catch {
    return undefined
  }
}

export function readInteger(value: string | undefined, fallback: number): number {
  const number = value === undefined ? Number.NaN : Number(value)
  return Number.isSafeInteger(number) ? number : fallback
}

export function retryHeaders(
  attempt: number,
  history: readonly AttemptFailure[],
  dueAt: number,
  delayed: boolean,
): MsgHdrs {
  const headers = newHeaders()
  headers.set(HEADER.attempt, String(attempt))
  headers.set(HEADER.history, headerJson(history))
  headers.set(HEADER.dueAt, String(dueAt))
  if (delayed) headers.set(HEADER.delayed, '1')
  return headers
}
