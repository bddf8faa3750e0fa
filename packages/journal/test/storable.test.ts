import { describe, expect, it } from 'vitest'
import { storableJson, storableTime } from '../src/storable.js'

describe('what the journal sends PostgreSQL: what it read back is what was journaled, or the closest it can hold', () => {
  const roundTrip = (value: unknown) => JSON.parse(storableJson(JSON.stringify(value)))

  it('rewrites only the escapes PostgreSQL refuses in JSON', () => {
    expect(storableJson('{"a":"x"}')).toBe('{"a":"x"}')
    expect(roundTrip({ tab: '\t', quote: '"', newline: '\n' })).toEqual({
      tab: '\t',
      quote: '"',
      newline: '\n',
    })
    // NUL becomes the text \u0000; a lone surrogate U+FFFD; a whole pair stays.
    expect(roundTrip({ nul: 'a\u0000b', 'key\u0000': 1 })).toEqual({ nul: 'a\\u0000b', 'key\\u0000': 1 })
    expect(roundTrip({ high: 'a\ud800b', low: '\udc00' })).toEqual({ high: 'a\ufffdb', low: '\ufffd' })
    expect(roundTrip({ pair: '😀' })).toEqual({ pair: '😀' })
    // The text "\u0000" (a backslash before it) is not a NUL; a backslash then a NUL keeps both.
    expect(roundTrip({ text: '\\u0000' })).toEqual({ text: '\\u0000' })
    expect(roundTrip({ both: '\\\u0000' })).toEqual({ both: '\\\\u0000' })
  })

  it("keeps an event's time when PostgreSQL reads it, else when the journal wrote it", () => {
    const written = '2026-12-04T10:00:00.000Z'
    expect(storableTime('2026-01-02T03:04:05.678+01:00', written)).toBe('2026-01-02T02:04:05.678Z')
    expect(storableTime('', written)).toBe(written)
    expect(storableTime('the day before yesterday', written)).toBe(written)
    expect(storableTime('0000-06-01T00:00:00Z', written)).toBe(written)
    expect(storableTime('+010000-01-01T00:00:00Z', written)).toBe(written)
  })
})
