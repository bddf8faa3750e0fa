import { randomFillSync } from 'node:crypto'

// Random bytes are drawn in blocks: one syscall per 4096 ids instead of one per id.
const POOL_IDS = 4096
const pool = Buffer.alloc(POOL_IDS * 10)
let poolOffset = pool.length
let lastMs = 0
let sequence = 0
const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1')
/** The id is written into one reused buffer and read out as one string: no intermediate strings. */
const text = Buffer.from('00000000-0000-7000-8000-000000000000', 'latin1')
let writtenMs = -1

/**
 * RFC 9562 UUID version 7: 48-bit Unix milliseconds, then a 12-bit counter (method 1) so ids made
 * in the same millisecond still sort in creation order within this process, then random bits.
 */
export function uuidv7(now: number = Date.now()): string {
  if (poolOffset + 10 > pool.length) {
    randomFillSync(pool)
    poolOffset = 0
  }
  let ms = now
  if (ms <= lastMs) {
    sequence += 1
    if (sequence > 0xfff) {
      // Counter exhausted within one millisecond: borrow the next millisecond, keeping order.
      lastMs += 1
      sequence = 0
    }
    ms = lastMs
  } else {
    lastMs = ms
    sequence = pool[poolOffset]! & 0x3f // random start leaves room to count up
  }
  const r = poolOffset
  poolOffset += 10
  if (ms !== writtenMs) {
    writtenMs = ms
    // 48 bits of milliseconds as 12 hex digits: positions 0-7, then 9-12 (after the first dash).
    let rest = ms
    for (let digit = 11; digit >= 0; digit -= 1) {
      text[digit < 8 ? digit : digit + 1] = HEX_DIGITS[rest % 16]!
      rest = Math.floor(rest / 16)
    }
  }
  text[15] = HEX_DIGITS[(sequence >> 8) & 0x0f]!
  text[16] = HEX_DIGITS[(sequence >> 4) & 0x0f]!
  text[17] = HEX_DIGITS[sequence & 0x0f]!
  writeByte(19, (pool[r + 1]! & 0x3f) | 0x80) // variant 10xx
  writeByte(21, pool[r + 2]!)
  for (let i = 0; i < 6; i += 1) writeByte(24 + i * 2, pool[r + 3 + i]!)
  return text.toString('latin1', 0, 36)
}

function writeByte(at: number, byte: number): void {
  text[at] = HEX_DIGITS[byte >> 4]!
  text[at + 1] = HEX_DIGITS[byte & 0x0f]!
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export function isUuid(value: string): boolean {
  return UUID.test(value)
}
