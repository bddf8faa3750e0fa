import { type Bus, createBus, type Event, PublishError, silentLogger } from '@tidings/core'
import { afterEach, describe, expect, it } from 'vitest'
import { createTcpProxy, type TcpProxy } from '../../tcp-proxy.js'
import { waitUntil } from '../../wait.js'
import type { ConformanceHarness, Received } from '../harness.js'

/** G1, G11, G12 under outages: the connection cut, the broker unreachable, then back. */
export function outagesSuite(h: ConformanceHarness): void {
  const hooks = h.hooks.outages
  const why = hooks ? '' : ' [skipped: the transport gives no outages hook (no connection to interrupt)]'
  let proxy: TcpProxy | undefined
  let proxied: Bus[] = []

  afterEach(async () => {
    await Promise.allSettled(proxied.map((bus) => bus.close()))
    proxied = []
    await proxy?.close()
    proxy = undefined
  })

  /** A bus whose transport reaches the broker only through a proxy the test controls. */
  async function busBehindProxy(publishTimeoutMs = 10_000, service = 'conformance'): Promise<Bus> {
    proxy ??= await createTcpProxy(hooks!.broker)
    const bus = createBus({
      service,
      logger: silentLogger,
      drainTimeoutMs: 2000,
      transport: hooks!.makeTransport(h.context, proxy, { publishTimeoutMs }),
    })
    proxied.push(bus)
    return bus
  }

  describe('outages (G1, G11, G12)', () => {
    it.skipIf(!hooks)(
      `reconnects after its connection is cut and loses nothing published meanwhile${why}`,
      async () => {
        const log: Received[] = []
        const consumer = await busBehindProxy()
        // A broker may hand an event to the connection being cut in the instant it dies (a NATS pull
        // request the server still holds): that event is unsettled and comes back after ackTimeoutMs
        // (G7), so the test keeps ackTimeoutMs within its wait.
        consumer.listen('order.placed', h.recorder(log), { name: 'fulfilment', ackTimeoutMs: 2000 })
        await consumer.start()
        const publisher = h.bus({ service: 'shop' })
        const before = await publisher.publish('order.placed', { n: 1 })
        await h.waitForCount(log, 1, 'deliveries before the cut')
        proxy!.cut()
        const during = []
        for (let n = 2; n <= 6; n += 1) during.push(await publisher.publish('order.placed', { n }))
        const ids = [before, ...during].map((event) => event.id)
        await waitUntil(() => ids.every((id) => log.some((entry) => entry.event.id === id)), {
          timeoutMs: 15_000,
          what: 'every event after the reconnect',
          seen: () => `Saw ${new Set(log.map((entry) => entry.event.id)).size} of ${ids.length}.`,
        })
      },
    )

    it.skipIf(!hooks)(
      `rejects publishing with PublishError while the broker was never reachable, then start() and publish() work once it is${why}`,
      async () => {
        proxy ??= await createTcpProxy(hooks!.broker)
        proxy.block()
        const bus = await busBehindProxy(500, 'payment')
        const log: Received[] = []
        bus.listen('payment.captured', h.recorder(log), { name: 'ledger' })
        await expect(bus.publish('payment.captured', { n: 1 })).rejects.toBeInstanceOf(PublishError)
        await expect(bus.start()).rejects.toThrow()
        proxy.restore()
        await bus.start() // documented as retryable: the same bus connects once the broker is there
        const sent = await bus.publish('payment.captured', { n: 2 })
        await waitUntil(() => log.some((entry) => entry.event.id === sent.id), {
          timeoutMs: 10_000,
          what: 'the event published once the broker was reachable',
        })
      },
    )

    it.skipIf(!hooks)(
      `closes within drainTimeoutMs and a bounded disconnect while the broker is unreachable${why}`,
      async () => {
        const bus = await busBehindProxy(500)
        bus.listen('order.placed', async () => {}, { name: 'fulfilment' })
        await bus.start()
        await bus.publish('order.placed', {})
        proxy!.block()
        const started = performance.now()
        await bus.close() // drainTimeoutMs is 2000 for suite buses; nothing is running
        expect(performance.now() - started).toBeLessThan(2000 + 3000)
      },
    )

    it.skipIf(!hooks)(
      `closes within a bounded disconnect when the broker becomes unreachable the moment it started, with a durable and an ephemeral group${why}`,
      async () => {
        const bus = await busBehindProxy(500)
        bus.listen('order.placed', async () => {}, { name: 'fulfilment' })
        bus.listen('order.placed', async () => {}, { name: 'tail', durable: false })
        await bus.start()
        // Requests the transport sent as it started may still wait for their answers.
        proxy!.block()
        const started = performance.now()
        await bus.close()
        // The same bound as above. A transport that waits for its broker to answer requests sent
        // just before (the API's own timeout, often 5 s, per request) goes past it.
        expect(performance.now() - started).toBeLessThan(2000 + 3000)
      },
    )

    it.skipIf(!hooks)(
      `rejects a publish with PublishError after publishTimeoutMs while the broker is unreachable, and publishes again once it is back${why}`,
      async () => {
        const log: Received[] = []
        const listener = h.bus()
        listener.listen('payment.captured', h.recorder(log), { name: 'ledger' })
        await listener.start()
        const publisher = await busBehindProxy(400, 'payment')
        await publisher.publish('payment.captured', { n: 1 })
        proxy!.block()
        const started = performance.now()
        const failed = publisher.publish('payment.captured', { n: 2 })
        await expect(failed).rejects.toBeInstanceOf(PublishError)
        const waited = performance.now() - started
        expect(waited).toBeGreaterThanOrEqual(300)
        expect(waited).toBeLessThan(5000)
        proxy!.restore()
        // The same bus works again once the broker is back (each try still bounded by its timeout).
        let after: Event | undefined
        const deadline = Date.now() + 15_000
        while (after === undefined && Date.now() < deadline)
          after = await publisher.publish('payment.captured', { n: 3 }).catch(() => undefined)
        if (after === undefined) throw new Error('No publish succeeded within 15 s after the outage ended.')
        const sentAfter = after
        await waitUntil(() => log.some((entry) => entry.event.id === sentAfter.id), {
          timeoutMs: 10_000,
          what: 'the event published after the outage',
        })
      },
    )
  })
}
