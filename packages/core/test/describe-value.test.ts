import { createBus, memoryTransport, silentLogger } from '@tidings/core'
import { describe, expect, it } from 'vitest'
import { describeValue } from '../src/util/describe-value.js'

describe('what an error message says was passed', () => {
  it('names each kind of value as a person would', () => {
    expect(describeValue(undefined)).toBe('nothing (undefined)')
    expect(describeValue(null)).toBe('null')
    expect(describeValue('x')).toBe('"x"')
    expect(describeValue(5)).toBe('the number 5')
    expect(describeValue(Number.NaN)).toBe('NaN')
    expect(describeValue(true)).toBe('true')
    expect(describeValue(() => {})).toBe('a function')
    expect(describeValue([1])).toBe('an array')
    expect(describeValue({})).toBe('an object')
  })

  it('tells a listen() without options what to pass, never "undefined undefined"', () => {
    const bus = createBus({ service: 'shop', logger: silentLogger, transport: memoryTransport() })
    const untyped = bus as unknown as { listen(pattern: string, handler: () => Promise<void>): unknown }
    expect(() => untyped.listen('order.placed', async () => {})).toThrow(
      'listen(pattern, handler, options) needs an options object with at least a name, such as { name: "create-shipment" }; got nothing (undefined).',
    )
  })
})
