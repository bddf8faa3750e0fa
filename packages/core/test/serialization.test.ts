import { createBus, MemoryBroker, memoryTransport, SerializationError, silentLogger } from '@tidings/core'
import { describe, expect, it } from 'vitest'

const bus = () =>
  createBus({
    service: 'shop',
    transport: memoryTransport({ broker: new MemoryBroker() }),
    logger: silentLogger,
  })

describe('payloads JSON cannot represent are refused, naming where (G13)', () => {
  const secret = Symbol('secret')
  const cases: [string, unknown, RegExp][] = [
    ['a function anywhere', { f: () => 1 }, /data\.f is a function/],
    ['a Map', { m: new Map([[1, 2]]) }, /data\.m is a Map, which JSON turns into \{\}/],
    ['a Set in an array', { items: [1, new Set([1])] }, /data\.items\[1\] is a Set/],
    ['NaN', { order: { lines: [{ price: Number.NaN }] } }, /data\.order\.lines\[0\]\.price is NaN/],
    ['Infinity', { ratio: Number.POSITIVE_INFINITY }, /data\.ratio is Infinity/],
    ['a symbol-keyed property', { [secret]: 'lost', ok: 1 }, /data has a symbol-keyed property/],
    ['a symbol value', { s: Symbol('x') }, /data\.s is a symbol/],
    ['a BigInt', { big: 10n }, /data\.big is a BigInt/],
    ['a top-level function', () => {}, /data is a function/],
  ]
  for (const [what, payload, message] of cases) {
    it(`refuses ${what} before anything is sent`, async () => {
      const publishing = bus().publish('order.placed', payload)
      await expect(publishing).rejects.toBeInstanceOf(SerializationError)
      await expect(publishing).rejects.toThrow(message)
    })
  }

  it('accepts what JSON represents by design: Date through toJSON, undefined properties omitted', async () => {
    const sent = await bus().publish('order.placed', {
      at: new Date('2026-11-24T00:00:00Z'),
      note: undefined,
      nested: { list: [1, 'two', null, true] },
    })
    expect(sent.type).toBe('order.placed')
  })
})
