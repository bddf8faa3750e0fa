import type { Bus, Listener } from '@tidings/core'

/** The events of the shop these examples test (a catalogue types the bus and the test helpers alike). */
export interface ShopEvents {
  'payment.captured': { orderId: string; amount: number }
  'shipment.created': { orderId: string; shipmentId: string }
}

export interface Warehouse {
  /** Reserves stock and returns the shipment id; throws while the warehouse is unavailable. */
  reserve(orderId: string): Promise<string>
}

/** The code under test: once a payment is captured, create the shipment and announce it. */
export function listenForPayments(bus: Bus<ShopEvents>, warehouse: Warehouse): Listener {
  return bus.listen(
    'payment.captured',
    async (event, ctx) => {
      const shipmentId = await warehouse.reserve(event.data.orderId)
      await ctx.publish('shipment.created', { orderId: event.data.orderId, shipmentId })
    },
    { name: 'create-shipment' },
  )
}

/** A warehouse that is unavailable for its first `failures` calls, as after a deploy. */
export function flakyWarehouse(failures: number): Warehouse & { readonly calls: number } {
  let calls = 0
  return {
    get calls() {
      return calls
    },
    async reserve(orderId) {
      calls += 1
      if (calls <= failures) throw new Error('warehouse unavailable')
      return `shp-${orderId}`
    },
  }
}
