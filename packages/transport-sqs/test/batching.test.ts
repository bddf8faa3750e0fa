import { createBus, type Event, silentLogger } from '@tidings/core'
import { waitUntil } from '@tidings/testkit'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { FaultProxy } from './fault-proxy.js'
import { deleteNamespace, ENDPOINT, makeTransport, randomNamespace } from './support.js'

/** The Message bytes of each PublishBatch request that passed the proxy. */
function watchBatches(proxy: FaultProxy): number[][] {
  const batches: number[][] = []
  proxy.use((action, body) => {
    if (action !== 'PublishBatch') return undefined
    const form = new URLSearchParams(body)
    const sizes: number[] = []
    for (const [name, value] of form)
      if (/^PublishBatchRequestEntries\.member\.\d+\.Message$/.test(name))
        sizes.push(Buffer.byteLength(value))
    batches.push(sizes)
    return undefined
  })
  return batches
}

describe('publishing to SNS in batches', () => {
  let namespace = ''
  let proxy: FaultProxy
  beforeEach(async () => {
    namespace = randomNamespace()
    proxy = await FaultProxy.start(ENDPOINT)
  })
  afterEach(async () => {
    await proxy.close()
    await deleteNamespace(namespace)
  })

  it('sends the publishes of one tick as PublishBatch calls of up to 10 entries', async () => {
    const batches = watchBatches(proxy)
    const bus = createBus({
      service: 'orders',
      logger: silentLogger,
      transport: makeTransport(namespace, { endpoint: proxy.endpoint }),
    })
    await bus.start()
    await Promise.all(Array.from({ length: 25 }, (_, i) => bus.publish('order.placed', { i })))
    await bus.close()
    expect(batches.map((sizes) => sizes.length)).toEqual([10, 10, 5])
  })

  it("keeps each batch within SNS's 256 KiB for all its entries together, and delivers every event", async () => {
    const batches = watchBatches(proxy)
    const received: Event[] = []
    const consumer = createBus({
      service: 'archive',
      logger: silentLogger,
      transport: makeTransport(namespace),
    })
    consumer.listen('document.stored', (event) => void received.push(event), { name: 'copy' })
    await consumer.start()
    const publisher = createBus({
      service: 'documents',
      logger: silentLogger,
      transport: makeTransport(namespace, { endpoint: proxy.endpoint }),
    })
    await publisher.start()
    // Ten events of 60 KiB each: 600 KiB in one tick, which AWS would refuse as one batch.
    const sent = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        publisher.publish('document.stored', { i, text: 'x'.repeat(60 * 1024) }),
      ),
    )
    for (const sizes of batches)
      expect(sizes.reduce((sum, size) => sum + size, 0)).toBeLessThanOrEqual(256 * 1024)
    expect(batches.flat()).toHaveLength(10)
    expect(batches.length).toBeGreaterThanOrEqual(3)
    await waitUntil(() => received.length >= 10, { what: 'the ten large events' })
    expect(new Set(received.map((event) => event.id))).toEqual(new Set(sent.map((event) => event.id)))
    await Promise.all([publisher.close(), consumer.close()])
  })
})
