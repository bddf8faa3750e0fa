import type { Event } from '@tidings/core'
import { createTestBus, ExpectPublishedError } from '@tidings/testkit'
import { describe, expect, expectTypeOf, it } from 'vitest'

interface ShopEvents {
  'order.placed': { orderId: string; lines: { sku: string; quantity: number }[] }
  'order.cancelled': { orderId: string; reason: string }
}

/**
 * The helpers take the test bus's catalogue, as the bus does: `npm run typecheck` proves the
 * compile-time half (each @ts-expect-error must be an error), vitest the run-time half.
 */
describe('test bus helpers typed by the event catalogue', () => {
  it('types waitFor and expectPublished by event name, and refuses names outside the catalogue', async () => {
    const { bus, waitFor, expectPublished, recorded } = createTestBus<ShopEvents>({ service: 'shop' })
    await bus.publish('order.placed', { orderId: 'o-1', lines: [{ sku: 'a', quantity: 2 }] })

    const placed = await waitFor('order.placed', { kind: 'published' })
    expectTypeOf(placed.data).toEqualTypeOf<ShopEvents['order.placed']>()
    expectTypeOf(placed.type).toEqualTypeOf<'order.placed'>()
    expect(placed.data.orderId).toBe('o-1')

    const matched = expectPublished('order.placed', { lines: [{ sku: 'a' }] })
    expectTypeOf(matched.data).toEqualTypeOf<ShopEvents['order.placed']>()
    expect(matched.data.lines[0]!.quantity).toBe(2)

    // A partial payload of the wrong shape is a type error, and fails at run time too.
    // @ts-expect-error orderId is a string in the catalogue
    expect(() => expectPublished('order.placed', { orderId: 1 })).toThrow(ExpectPublishedError)
    // @ts-expect-error 'order.shipped' is not in the catalogue
    expect(() => expectPublished('order.shipped')).toThrow(/Expected "order.shipped" to be published/)
    // @ts-expect-error 'order.shipped' is not in the catalogue
    await expect(waitFor('order.shipped', { kind: 'published', timeoutMs: 10 })).rejects.toThrow()

    // Recorded events narrow their data by type.
    const [first] = recorded.published
    expectTypeOf(first!.type).toEqualTypeOf<'order.placed' | 'order.cancelled'>()
    if (first?.type === 'order.placed')
      expectTypeOf(first.data.lines).toEqualTypeOf<ShopEvents['order.placed']['lines']>()
    expectTypeOf<(typeof recorded.handled)[number]['event']['type']>().toEqualTypeOf<
      'order.placed' | 'order.cancelled'
    >()
    await bus.close()
  })

  it('stays permissive on an untyped test bus: any name, unknown data, any partial payload', async () => {
    const { bus, waitFor, expectPublished, recorded } = createTestBus({ service: 'shop' })
    await bus.publish('anything.happened', { nested: { value: 1 } })
    const event = await waitFor('anything.happened', { kind: 'published' })
    expectTypeOf(event.data).toEqualTypeOf<unknown>()
    expectTypeOf(event).toMatchTypeOf<Event>()
    expect(expectPublished('anything.happened', { nested: { value: 1 } }).type).toBe('anything.happened')
    expectTypeOf(recorded.published[0]!.data).toEqualTypeOf<unknown>()
    await bus.close()
  })
})
