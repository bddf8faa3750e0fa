import { GetQueueAttributesCommand, ListQueuesCommand } from '@aws-sdk/client-sqs'
import { ConfigError, createBus, silentLogger } from '@tidings/core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { deleteNamespace, makeTransport, randomNamespace, rawSqs } from './support.js'

describe('SQS topology', () => {
  let namespace = ''
  beforeEach(() => {
    namespace = randomNamespace()
  })
  afterEach(() => deleteNamespace(namespace))

  it('keeps events and dead letters for 14 days, the longest SQS allows (its default is 4)', async () => {
    const bus = createBus({ service: 'billing', transport: makeTransport(namespace), logger: silentLogger })
    bus.listen('invoice.sent', () => {}, { name: 'ledger' })
    await bus.start()
    await bus.close()
    const sqs = rawSqs()
    const { QueueUrls = [] } = await sqs.send(new ListQueuesCommand({ QueueNamePrefix: `${namespace}-` }))
    expect(QueueUrls.map((url) => url.split('/').pop()).sort()).toEqual([
      `${namespace}-billing-ledger`,
      `${namespace}-billing-ledger-dlq`,
    ])
    for (const url of QueueUrls) {
      const { Attributes } = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['MessageRetentionPeriod'] }),
      )
      expect(Attributes?.MessageRetentionPeriod).toBe(String(14 * 24 * 3600))
    }
    sqs.destroy()
  })

  it("refuses a listener named dlq, whose queue would be another group's dead-letter queue", async () => {
    const bus = createBus({ service: 'orders', transport: makeTransport(namespace), logger: silentLogger })
    bus.listen('order.placed', () => {}, { name: 'dlq' })
    const starting = bus.start()
    await expect(starting).rejects.toBeInstanceOf(ConfigError)
    await expect(starting).rejects.toThrow(/dead-letter queue of group "orders"/)
    await bus.close()
  })
})
