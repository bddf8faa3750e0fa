import { storableJson } from './storable.js'

/**
 * The rows of a `jsonb_to_recordset($1::jsonb)` parameter, written row by row into one buffer that is
 * kept for the next statement. The whole batch as one JSON string (megabytes) made V8 and the driver
 * allocate, flatten and page in fresh memory for every batch, and that cost the bus more than the
 * rest of the journal's work in the process (docs/benchmarks.md, "The journal's cost").
 */
export class JsonRows {
  private buffer = Buffer.allocUnsafe(64 * 1024)
  private length = 0
  private count = 0

  /** Starts an empty array, ready for rows. */
  reset(): this {
    this.buffer[0] = JSONB_VERSION
    this.buffer[1] = OPEN_BRACKET
    this.length = 2
    this.count = 0
    return this
  }

  /** Throws what JSON.stringify throws (a cycle, data nested too deep); the rows so far stay. */
  add(row: object): void {
    const json = storableJson(JSON.stringify(row))
    // UTF-8 takes at most 3 bytes per UTF-16 unit; a comma and the closing bracket follow.
    this.reserve(json.length * 3 + 2)
    if (this.count > 0) this.buffer[this.length++] = COMMA
    this.length += this.buffer.write(json, this.length)
    this.count += 1
  }

  get size(): number {
    return this.count
  }

  get byteLength(): number {
    return this.length
  }

  /** jsonb's binary input form (a version byte, then the text), as `pg` sends a Buffer parameter. */
  binary(): Buffer {
    this.buffer[this.length] = CLOSE_BRACKET
    return this.buffer.subarray(0, this.length + 1)
  }

  /** The JSON text, for clients that take parameters as text (PGlite). */
  text(): string {
    return `${this.buffer.toString('utf8', 1, this.length)}]`
  }

  private reserve(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.length + bytes))
    this.buffer.copy(grown, 0, 0, this.length)
    this.buffer = grown
  }
}

/** jsonb_recv reads format version 1: the JSON text follows. */
const JSONB_VERSION = 1
const OPEN_BRACKET = 0x5b
const CLOSE_BRACKET = 0x5d
const COMMA = 0x2c
