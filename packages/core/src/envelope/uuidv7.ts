import { randomFillSync } from 'node:crypto'

// Random bytes are drawn in blocks: one syscall per 4096 ids instead of one per id.
const POOL_IDS = 4096
const pool = Buffer.alloc(POOL_IDS * 10)
let poolOffset = pool.length
let lastMs = 0
let sequence = 0
const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))

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
  const timeHex = ms.toString(16).padStart(12, '0')
  return (
    `${timeHex.slice(0, 8)}-${timeHex.slice(8, 12)}-` +
    `7${HEX[(sequence >> 8) & 0x0f]!.slice(1)}${HEX[sequence & 0xff]}-` +
    `${HEX[(pool[r + 1]! & 0x3f) | 0x80]}${HEX[pool[r + 2]!]}-` +
    `${HEX[pool[r + 3]!]}${HEX[pool[r + 4]!]}${HEX[pool[r + 5]!]}${HEX[pool[r + 6]!]}${HEX[pool[r + 7]!]}${HEX[pool[r + 8]!]}`
  )
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export function isUuid(value: string): boolean {
  return UUID.test(value)
}
