import { ConfigError, DecodeError, SerializationError } from '../errors/errors.js'
import { unrepresentable } from './representable.js'
import { parseJsonSafely } from './safe-json.js'
import { uuidv7 } from './uuidv7.js'

/** An event as a handler sees it: the CloudEvents envelope with friendlier names. */
export interface Event<T = unknown> {
  readonly id: string
  readonly type: string
  /** `/<service>` of the publisher. */
  readonly source: string
  /** RFC 3339 time of publication. */
  readonly time: string
  readonly data: T
  /** The ordering key given to publish() (CloudEvents `partitionkey`). */
  readonly key?: string
  readonly correlationId?: string
  readonly causationId?: string
  readonly traceparent?: string
  /** User headers (CloudEvents extension attributes). */
  readonly headers: Readonly<Record<string, string>>
}

export interface EnvelopeInput {
  readonly type: string
  readonly data: unknown
  readonly source: string
  readonly id?: string
  readonly time?: string
  readonly key?: string
  readonly correlationId?: string
  readonly causationId?: string
  readonly traceparent?: string
  readonly headers?: Readonly<Record<string, string>>
}

/** CloudEvents attributes Tidings writes itself; user headers may not reuse these names. */
const RESERVED_ATTRIBUTES = new Set([
  'specversion',
  'id',
  'type',
  'source',
  'time',
  'datacontenttype',
  'dataschema',
  'subject',
  'data',
  'data_base64',
  'correlationid',
  'causationid',
  'traceparent',
  'tracestate',
  'partitionkey',
])
const EXTENSION_NAME = /^[a-z0-9]{1,20}$/

export function assertHeaders(headers: unknown): asserts headers is Record<string, string> | undefined {
  if (headers === undefined) return
  if (headers === null || typeof headers !== 'object' || Array.isArray(headers)) {
    throw new ConfigError(
      'publish() options.headers must be an object of string values, such as { source: "payment" }.',
    )
  }
  for (const [name, value] of Object.entries(headers)) {
    if (!EXTENSION_NAME.test(name)) {
      throw new ConfigError(
        `The header name "${name}" is not a valid CloudEvents extension name: use 1 to 20 lowercase letters or digits (such as "tenantid").`,
      )
    }
    if (RESERVED_ATTRIBUTES.has(name)) {
      throw new ConfigError(
        `The header name "${name}" is a CloudEvents attribute Tidings sets itself: pick another name, or use the publish() option for it.`,
      )
    }
    if (typeof value !== 'string') {
      throw new ConfigError(
        `The header "${name}" must be a string, got ${typeof value}: convert it with String().`,
      )
    }
  }
}

/**
 * Encode to CloudEvents 1.0 structured JSON with ONE JSON.stringify of the whole envelope: the text
 * comes out flat, with no intermediate string for the payload. (Building it by concatenation made a
 * rope of three strings that each transport then had to flatten, and a memory transport holding
 * such ropes in its queues paid for it in garbage collection.)
 */
export function encodeEnvelope(input: EnvelopeInput): { readonly event: Event; readonly text: string } {
  const id = input.id ?? uuidv7()
  const time = input.time ?? isoNow()
  const data = input.data
  const lost = unrepresentable(data, 'data')
  if (lost !== undefined) throw new SerializationError(input.type, new TypeError(lost))
  const headers = input.headers ?? EMPTY_HEADERS
  const envelope: Record<string, unknown> = {
    specversion: '1.0',
    id,
    type: input.type,
    source: input.source,
    time,
    datacontenttype: 'application/json',
  }
  if (input.key !== undefined) envelope.partitionkey = input.key
  if (input.correlationId !== undefined) envelope.correlationid = input.correlationId
  if (input.causationId !== undefined) envelope.causationid = input.causationId
  if (input.traceparent !== undefined) envelope.traceparent = input.traceparent
  for (const name in headers) envelope[name] = headers[name]
  if (data !== undefined) envelope.data = data
  let text: string
  try {
    text = JSON.stringify(envelope)
  } catch (error) {
    throw new SerializationError(input.type, error)
  }
  const event: Event = {
    id,
    type: input.type,
    source: input.source,
    time,
    data,
    key: input.key,
    correlationId: input.correlationId,
    causationId: input.causationId,
    traceparent: input.traceparent,
    headers,
  }
  return { event, text }
}

/** Decode a wire message; throws DecodeError saying what is missing. Never trusts the input. */
export function decodeEnvelope(body: Buffer | Uint8Array | string): Event {
  const text =
    typeof body === 'string'
      ? body
      : Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8')
  let parsed: unknown
  try {
    parsed = parseJsonSafely(text)
  } catch (error) {
    throw new DecodeError(
      `The message is not JSON (${(error as Error).message}); expected a CloudEvents 1.0 JSON envelope.`,
      {
        cause: error,
      },
    )
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new DecodeError('The message is JSON but not an object; expected a CloudEvents 1.0 JSON envelope.')
  }
  const raw = parsed as Record<string, unknown>
  if (typeof raw.id !== 'string' || raw.id.length === 0) {
    throw new DecodeError('The message has no "id" string; expected a CloudEvents 1.0 JSON envelope.')
  }
  if (typeof raw.type !== 'string' || raw.type.length === 0) {
    throw new DecodeError('The message has no "type" string; expected a CloudEvents 1.0 JSON envelope.')
  }
  if (raw.specversion !== undefined && raw.specversion !== '1.0') {
    throw new DecodeError(
      `The message has specversion ${JSON.stringify(raw.specversion)}; Tidings reads CloudEvents "1.0".`,
    )
  }
  let headers: Record<string, string> | undefined
  for (const name in raw) {
    if (RESERVED_ATTRIBUTES.has(name)) continue
    const value = raw[name]
    if (value === undefined || value === null || typeof value === 'object') continue
    headers ??= Object.create(null) as Record<string, string>
    headers[name] = String(value)
  }
  return {
    id: raw.id,
    type: raw.type,
    source: typeof raw.source === 'string' ? raw.source : '',
    time: typeof raw.time === 'string' ? raw.time : '',
    data: raw.data,
    key: optionalString(raw.partitionkey),
    correlationId: optionalString(raw.correlationid),
    causationId: optionalString(raw.causationid),
    traceparent: optionalString(raw.traceparent),
    headers: headers ?? EMPTY_HEADERS,
  }
}

let isoMs = 0
let isoText = ''
/** RFC 3339 now, formatted once per millisecond (a busy publisher asks thousands of times). */
function isoNow(): string {
  const ms = Date.now()
  if (ms !== isoMs) {
    isoMs = ms
    isoText = new Date(ms).toISOString()
  }
  return isoText
}

const EMPTY_HEADERS: Readonly<Record<string, string>> = Object.freeze(Object.create(null))

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined
}
