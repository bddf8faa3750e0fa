import {
  ConfigError,
  DecodeError,
  decodeEnvelope,
  EncodedMessage,
  encodeEnvelope,
  SerializationError,
} from '@tidings/core'
import { describe, expect, it } from 'vitest'
import { isUuid, uuidv7 } from '../src/envelope/uuidv7.js'

describe('CloudEvents envelope (SPEC §4)', () => {
  it('encodes structured-mode CloudEvents 1.0 that other tools can read', () => {
    const { text, event } = encodeEnvelope({
      type: 'order.placed',
      data: { orderId: 'o-1' },
      source: '/shop',
      key: 'o-1',
      correlationId: 'c-1',
      causationId: 'e-0',
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      headers: { tenant: 'acme' },
    })
    const json = JSON.parse(text)
    expect(json).toEqual({
      specversion: '1.0',
      id: event.id,
      type: 'order.placed',
      source: '/shop',
      time: event.time,
      datacontenttype: 'application/json',
      partitionkey: 'o-1',
      correlationid: 'c-1',
      causationid: 'e-0',
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      tenant: 'acme',
      data: { orderId: 'o-1' },
    })
    expect(isUuid(event.id)).toBe(true)
    expect(new Date(event.time).toISOString()).toBe(event.time)
  })

  it('round-trips through decode', () => {
    const { text, event } = encodeEnvelope({
      type: 'a.b',
      data: [1, 'two', { three: null }],
      source: '/x',
      headers: { h1: 'v' },
    })
    const decoded = decodeEnvelope(Buffer.from(text))
    expect(decoded).toMatchObject({
      id: event.id,
      type: 'a.b',
      data: [1, 'two', { three: null }],
      source: '/x',
    })
    expect({ ...decoded.headers }).toEqual({ h1: 'v' })
  })

  it('publishes an event without data', () => {
    const { text } = encodeEnvelope({ type: 'cache.cleared', data: undefined, source: '/x' })
    expect(decodeEnvelope(text).data).toBeUndefined()
  })

  it.each([
    ['not json', /not JSON/],
    ['[1,2]', /not an object/],
    ['"text"', /not an object/],
    ['{"type":"a"}', /no "id"/],
    ['{"id":"1"}', /no "type"/],
    ['{"id":"1","type":"a","specversion":"0.3"}', /specversion/],
  ])('rejects %j with DecodeError', (text, message) => {
    expect(() => decodeEnvelope(Buffer.from(text))).toThrow(DecodeError)
    expect(() => decodeEnvelope(Buffer.from(text))).toThrow(message)
  })

  it('drops "__proto__" keys, even spelled with escapes', () => {
    const text =
      '{"id":"1","type":"a","data":{"x":1,"\\u005f_proto__":{"polluted":1},"nested":{"__proto__":{"polluted":1}}}}'
    const event = decodeEnvelope(Buffer.from(text))
    const data = event.data as Record<string, Record<string, unknown>>
    expect(Object.getPrototypeOf(data)).toBe(Object.prototype)
    expect(Object.keys(data)).toEqual(['x', 'nested'])
    expect(Object.keys(data.nested!)).toEqual([])
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('refuses payloads JSON cannot hold, naming the fix', () => {
    expect(() => encodeEnvelope({ type: 'a', data: { n: 1n }, source: '/x' })).toThrow(SerializationError)
    expect(() => encodeEnvelope({ type: 'a', data: { n: 1n }, source: '/x' })).toThrow(/BigInt/)
    expect(() => encodeEnvelope({ type: 'a', data: Symbol('s'), source: '/x' })).toThrow(SerializationError)
  })

  it('measures an encoded event in UTF-8 bytes, not characters', () => {
    // 'é' is one UTF-16 code unit but two UTF-8 bytes; '€' is three.
    expect(new EncodedMessage('id', 'order.placed', undefined, 'é'.repeat(600)).byteLength).toBe(1200)
    expect(new EncodedMessage('id', 'order.placed', undefined, '€'.repeat(400)).byteLength).toBe(1200)
    expect(new EncodedMessage('id', 'order.placed', undefined, 'a'.repeat(10)).byteLength).toBe(10)
  })

  it('makes UUIDv7 ids that sort in creation order', () => {
    const ids = Array.from({ length: 10_000 }, () => uuidv7())
    expect([...ids].sort()).toEqual(ids)
    expect(new Set(ids).size).toBe(ids.length)
    expect(ids.every((id) => isUuid(id) && id[14] === '7' && '89ab'.includes(id[19]!))).toBe(true)
  })

  it('puts the creation time in the first 48 bits of a UUIDv7', () => {
    const before = Date.now()
    const id = uuidv7()
    const after = Date.now()
    const ms = Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16)
    expect(ms).toBeGreaterThanOrEqual(before)
    // Ids made faster than 4096 per millisecond borrow the next millisecond, so allow a little.
    expect(ms).toBeLessThanOrEqual(after + 5)
  })

  it('is a ConfigError hierarchy, not a bare Error', () => {
    expect(new ConfigError('x')).toBeInstanceOf(Error)
    expect(new ConfigError('x').code).toBe('TIDINGS_CONFIG')
    expect(new ConfigError('x').name).toBe('ConfigError')
  })
})
