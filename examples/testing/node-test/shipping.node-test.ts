import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createTestBus } from '@tidings/testkit'
import { flakyWarehouse, listenForPayments, type ShopEvents } from '../shipping.js'

// Run with: node --import tsx --test examples/testing/node-test/shipping.node-test.ts
test('creates the shipment once the warehouse is back, after two retries', async () => {
  const { bus, clock, waitFor, expectPublished } = createTestBus<ShopEvents>({ service: 'shipping' })
  const warehouse = flakyWarehouse(2)
  listenForPayments(bus, warehouse)
  await bus.start()

  await bus.publish('payment.captured', { orderId: 'o-1', amount: 42 })
  await waitFor('payment.captured', { kind: 'retry-scheduled' })
  await clock.runAllTimers() // every retry, in order, until nothing but lease renewal is pending
  await waitFor('payment.captured')

  assert.equal(warehouse.calls, 3)
  assert.equal(expectPublished('shipment.created', { orderId: 'o-1' }).data.shipmentId, 'shp-o-1')
  await bus.close()
})
