import { type AttemptFailure, parseJsonSafely } from '@tidings/core/transport'
import type { Message, MessagePropertyHeaders, Options } from 'amqplib'
import type { QueueType } from './options.js'

/** Delivery state travels in AMQP headers, never in the body (SPEC §4). */
export const HEADER = {
  /** The attempt number a retried copy carries (absent: 1). */
  attempt: 'x-tidings-attempt',
  /** JSON array of AttemptFailure, oldest first. */
  history: 'x-tidings-history',
  /** Dead letters: the event id (or the id core assigned to an undecodable message). */
  id: 'x-tidings-id',
  type: 'x-tidings-type',
  group: 'x-tidings-group',
  reason: 'x-tidings-reason',
  deadLetteredAt: 'x-tidings-dead-lettered-at',
  /** A copy made because a stalled process's lease lapsed: a redelivery, though new to the broker. */
  redelivered: 'x-tidings-redelivered',
} as const

export const CLOUDEVENTS_CONTENT_TYPE = 'application/cloudevents+json'

/** Headers the broker or Tidings sets per hop; never copied onto a new message. */
const HOP_HEADERS = new Set([
  'x-death',
  'x-first-death-exchange',
  'x-first-death-queue',
  'x-first-death-reason',
  'x-last-death-exchange',
  'x-last-death-queue',
  'x-last-death-reason',
  'x-delivery-count',
])

export function readAttempt(message: Message, queueType: QueueType): number {
  const headers = message.properties.headers
  const stored = toPositiveInteger(headers?.[HEADER.attempt]) ?? 1
  // Crash redeliveries: quorum queues count them (x-delivery-count); classic queues only flag them.
  if (queueType === 'quorum') {
    const counted = toPositiveInteger(headers?.['x-delivery-count'])
    if (counted !== undefined) return stored + counted
  }
  return message.fields.redelivered ? stored + 1 : stored
}

export function readHistory(headers: MessagePropertyHeaders | undefined): readonly AttemptFailure[] {
  const raw = headers?.[HEADER.history]
  const text = Buffer.isBuffer(raw) ? raw.toString('utf8') : raw
  if (typeof text !== 'string' || text.length === 0) return []
  try {
    const parsed = parseJsonSafely(text)
    return Array.isArray(parsed) ? (parsed.filter(isAttemptFailure) as AttemptFailure[]) : []
  } catch {
    return []
  }
}

/**
 * JSON of the history. Core has already fitted it to this transport's `historyBytes` (64 KiB: a
 * header table must fit one AMQP frame, 128 KiB by default), so nothing is trimmed here.
 */
export function encodeHistory(history: readonly AttemptFailure[]): string {
  return JSON.stringify(history)
}

/** The headers of a message minus per-hop and Tidings delivery-state headers. */
export function carriedHeaders(headers: MessagePropertyHeaders | undefined): Record<string, unknown> {
  const result: Record<string, unknown> = {}
  if (!headers) return result
  for (const name of Object.keys(headers)) {
    if (HOP_HEADERS.has(name) || name.startsWith('x-tidings-')) continue
    result[name] = headers[name]
  }
  return result
}

/** Properties of a copy (retry, dead letter, replay): the original's, persistent, with new headers. */
export function copyProperties(message: Message, headers: Record<string, unknown>): Options.Publish {
  const properties = message.properties
  const copy: Options.Publish = { persistent: true, headers }
  if (properties.contentType !== undefined) copy.contentType = properties.contentType
  if (properties.contentEncoding !== undefined) copy.contentEncoding = properties.contentEncoding
  if (properties.messageId !== undefined) copy.messageId = properties.messageId
  if (properties.type !== undefined) copy.type = properties.type
  if (properties.correlationId !== undefined) copy.correlationId = properties.correlationId
  if (properties.timestamp !== undefined) copy.timestamp = properties.timestamp
  if (properties.appId !== undefined) copy.appId = properties.appId
  return copy
}

export function headerString(headers: MessagePropertyHeaders | undefined, name: string): string | undefined {
  const value = headers?.[name]
  if (typeof value === 'string') return value
  if (Buffer.isBuffer(value)) return value.toString('utf8')
  return undefined
}

function toPositiveInteger(value: unknown): number | undefined {
  const number = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : Number.NaN
  return Number.isInteger(number) && number > 0 ? number : undefined
}

function isAttemptFailure(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return false
  const failure = value as Record<string, unknown>
  return (
    typeof failure.attempt === 'number' &&
    typeof failure.at === 'string' &&
    failure.error !== null &&
    typeof failure.error === 'object'
  )
}
