import { inspect } from 'node:util'
import { createBus, memoryTransport, silentLogger } from '@tidings/core'
import { describe, expect, it } from 'vitest'

describe('no secret in an inspected bus', () => {
  it('prints a bus configured by a URL with credentials without them, in util.inspect, console.log and JSON', () => {
    const bus = createBus({
      service: 'shop',
      logger: silentLogger,
      url: 'amqp://shop:pa55word@rabbit.internal:5672/prod?token=t0k3n',
    })
    bus.listen('order.placed', async () => {}, { name: 'confirm' })
    const shown = [
      inspect(bus, { depth: 20, showHidden: true }),
      JSON.stringify(bus),
      `${inspect({ nested: { bus } })}`,
    ]
    for (const text of shown) {
      expect(text).not.toContain('pa55word')
      expect(text).not.toContain('t0k3n')
    }
    expect(inspect(bus)).toContain("service: 'shop'")
    expect(inspect(bus)).toContain('amqp://***@rabbit.internal:5672/prod')
    expect(JSON.parse(JSON.stringify(bus))).toMatchObject({
      service: 'shop',
      state: 'idle',
      listeners: ['confirm'],
    })
  })

  it('names the transport of a bus given one', () => {
    const bus = createBus({ service: 'shop', logger: silentLogger, transport: memoryTransport() })
    expect(inspect(bus)).toMatch(/^Bus \{.*transport: 'memory'/s)
  })
})
