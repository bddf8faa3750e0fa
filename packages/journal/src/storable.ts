/**
 * What PostgreSQL refuses makes its whole batch fail, and every record behind it would wait. So a
 * batch is made storable before it is sent: JSONB cannot hold `\u0000` or half a surrogate pair
 * (nor can text), and timestamptz reads neither year 0 nor years past 9999 nor a time that is none.
 */

/**
 * JSON text (from JSON.stringify) with the escapes PostgreSQL refuses rewritten: NUL as the text
 * `\u0000`, half a surrogate pair as U+FFFD, as a UTF-8 encoder does.
 */
export function storableJson(json: string): string {
  // JSON.stringify escapes control characters and lone surrogates as \uXXXX and nothing else, so
  // text without "\u" needs no look.
  return json.includes('\\u') ? json.replace(UNSTORABLE_ESCAPES, storableEscape) : json
}

/**
 * An event's `time`, which another publisher may have filled with anything: as RFC 3339 when it is a
 * time PostgreSQL reads, else `fallback` (when the journal wrote it).
 */
export function storableTime(time: string, fallback: string): string {
  const epochMs = Date.parse(time)
  if (Number.isNaN(epochMs)) return fallback
  const iso = new Date(epochMs).toISOString()
  // Years beyond 9999 print as "+010000-…" and year 0 as "0000-…".
  return iso.length === 24 && !iso.startsWith('0000') ? iso : fallback
}

/**
 * `\u0000` and a lone surrogate's `\uD800`–`\uDFFF` (JSON.stringify writes a whole pair as the
 * characters themselves, so any such escape is half a pair), after an odd number of backslashes:
 * an even number escape each other, and `u…` is plain text.
 */
const UNSTORABLE_ESCAPES = /(\\+)u(0000|d[89a-f][0-9a-f]{2})/gi

function storableEscape(match: string, backslashes: string, code: string): string {
  if (backslashes.length % 2 === 0) return match
  const kept = backslashes.slice(1)
  return code === '0000' ? `${kept}\\\\u0000` : `${kept}\\ufffd`
}
