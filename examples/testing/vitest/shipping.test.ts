import { createTestBus } from '@tidings/testkit'
import { describe, expect, it } from 'vitest'
import { flakyWarehouse, listenForPayments, type ShopEvents } from '../shipping.js'

describe('shipping (vitest)', () => {
  it('creates the shipment once the warehouse is back, after two retries', async () => {
    const { bus, clock, waitFor, expectPublished } = createTestBus<ShopEvents>({ service: 'shipping' })
    const warehouse = flakyWarehouse(2)
    listenForPayments(bus, warehouse)
    await bus.start()

    await bus.publish('payment.captured', { orderId: 'o-1', amount: 42 })
    await waitFor('payment.captured', { kind: 'retry-scheduled' })
    await clock.advance(1000) // the first retry: exactly 1 s on the test bus (no jitter)
    await waitFor('payment.captured', { kind: 'retry-scheduled', count: 2 })
    await clock.advanceToNextTimer() // the second, 2 s later
    await waitFor('payment.captured')

    expect(warehouse.calls).toBe(3)
    expect(expectPublished('shipment.created', { orderId: 'o-1' }).data.shipmentId).toBe('shp-o-1')
    await bus.close()
  })
})
