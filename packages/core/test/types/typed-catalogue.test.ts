import { type Bus, createBus, type Event, memoryTransport } from '@tidings/core'
import { describe, expectTypeOf, it } from 'vitest'
import type { MatchesPattern } from '../../src/patterns/pattern-types.js'

/**
 * The typed catalogue end to end. These are compile-time facts: `npm run typecheck` fails when one
 * stops holding (each @ts-expect-error must still be an error), and vitest runs the file too.
 */
type Shop = {
  'payment.purchase.done': { orderId: string; value: number }
  'payment.refund.done': { orderId: string; refunded: number }
  'shipment.created': { orderId: string; trackingId: string }
  order: { id: string }
}

const typed = (): Bus<Shop> => createBus<Shop>({ service: 'shop', transport: memoryTransport() })

describe('the typed catalogue', () => {
  it('matches patterns at the type level as at run time', () => {
    expectTypeOf<MatchesPattern<'payment.*.done', 'payment.purchase.done'>>().toEqualTypeOf<true>()
    expectTypeOf<MatchesPattern<'payment.*.done', 'shipment.created'>>().toEqualTypeOf<false>()
    expectTypeOf<MatchesPattern<'#', 'order'>>().toEqualTypeOf<true>()
    expectTypeOf<MatchesPattern<'order.#', 'order'>>().toEqualTypeOf<true>()
    expectTypeOf<MatchesPattern<'#.done', 'payment.refund.done'>>().toEqualTypeOf<true>()
    expectTypeOf<MatchesPattern<'*', 'payment.refund.done'>>().toEqualTypeOf<false>()
    expectTypeOf<MatchesPattern<'payment.#.done', 'payment.done'>>().toEqualTypeOf<true>()
  })

  it('refuses a listener pattern that matches no event of the catalogue (a typo), names and wildcards alike', () => {
    const bus = typed()
    // @ts-expect-error "purchse": no such event
    bus.listen('payment.purchse.done', () => {}, { name: 'a' })
    // @ts-expect-error no event has three words under "shipment"
    bus.listen('shipment.*.done', () => {}, { name: 'b' })
    // @ts-expect-error one of several patterns matches nothing
    bus.listen(['payment.*.done', 'shipmnt.created'], () => {}, { name: 'c' })
    bus.listen('payment.#', () => {}, { name: 'd' })
    bus.listen(['shipment.created', 'order'], () => {}, { name: 'e' })
  })

  it('gives a wildcard listener the union of the events it matches, narrowed by event.type', () => {
    typed().listen(
      'payment.*.done',
      (event) => {
        expectTypeOf(event.type).toEqualTypeOf<'payment.purchase.done' | 'payment.refund.done'>()
        if (event.type === 'payment.refund.done')
          expectTypeOf(event.data).toEqualTypeOf<{ orderId: string; refunded: number }>()
        else expectTypeOf(event.data).toEqualTypeOf<{ orderId: string; value: number }>()
        // @ts-expect-error shipment.created is not matched by payment.*.done
        event.data.trackingId
      },
      { name: 'payments' },
    )
  })

  it('types ctx.publish by the catalogue, as bus.publish', () => {
    typed().listen(
      'payment.purchase.done',
      async (event, ctx) => {
        expectTypeOf(event.data.value).toEqualTypeOf<number>()
        const sent = await ctx.publish('shipment.created', { orderId: event.data.orderId, trackingId: 't' })
        expectTypeOf(sent).toEqualTypeOf<Event<{ orderId: string; trackingId: string }>>()
        // @ts-expect-error orderId must be a string
        await ctx.publish('shipment.created', { orderId: 1, trackingId: 't' })
        // @ts-expect-error no such event
        await ctx.publish('shipment.creatd', { orderId: 'o', trackingId: 't' })
      },
      { name: 'ship' },
    )
  })

  it('keeps an untyped bus permissive', () => {
    const bus = createBus({ service: 'shop', transport: memoryTransport() })
    bus.listen(
      'anything.#',
      async (event, ctx) => {
        expectTypeOf(event).toEqualTypeOf<Event<unknown>>()
        await ctx.publish('whatever.happened', { any: 'thing' })
      },
      { name: 'all' },
    )
  })
})
