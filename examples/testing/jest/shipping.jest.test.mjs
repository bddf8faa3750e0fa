// Jest runs this file as native ESM: node --experimental-vm-modules node_modules/jest/bin/jest.js
// (Tidings is ESM-only). It uses the published build of the testkit, as a project that installs it does.
import { expect, test } from '@jest/globals'
import { createTestBus } from '@tidings/testkit'

/** The code under test: once a payment is captured, create the shipment and announce it. */
function listenForPayments(bus, warehouse) {
  return bus.listen(
    'payment.captured',
    async (event, ctx) => {
      const shipmentId = await warehouse.reserve(event.data.orderId)
      await ctx.publish('shipment.created', { orderId: event.data.orderId, shipmentId })
    },
    { name: 'create-shipment' },
  )
}

test('creates the shipment once the warehouse is back, after two retries', async () => {
  const { bus, clock, waitFor, expectPublished } = createTestBus({ service: 'shipping' })
  let calls = 0
  listenForPayments(bus, {
    async reserve(orderId) {
      calls += 1
      if (calls <= 2) throw new Error('warehouse unavailable')
      return `shp-${orderId}`
    },
  })
  await bus.start()

  await bus.publish('payment.captured', { orderId: 'o-1', amount: 42 })
  await waitFor('payment.captured', { kind: 'retry-scheduled' })
  await clock.runAllTimers() // every retry, in order (1 s, then 2 s: no jitter on the test bus)
  await waitFor('payment.captured')

  expect(calls).toBe(3)
  expect(expectPublished('shipment.created', { orderId: 'o-1' }).data.shipmentId).toBe('shp-o-1')
  await bus.close()
})
