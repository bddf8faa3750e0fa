import { decodeEnvelope } from '@tidings/core'
import amqp from 'amqplib'
import { afterEach, describe, expect, it } from 'vitest'
import { AMQP_URL, event, Inbox, subscription, TransportPool } from './helpers.js'

describe('amqp transport: plain AMQP clients interoperate', () => {
  let pool: TransportPool
  afterEach(async () => {
    await pool.cleanup()
  })

  it('a raw amqplib client reads an event published by Tidings from a queue it binds itself', async () => {
    pool = new TransportPool()
    const transport = await pool.open()
    const queue = `${pool.namespace}.raw-reader`
    pool.extraQueues.add(queue)
    const connection = await amqp.connect(AMQP_URL)
    try {
      const channel = await connection.createChannel()
      await channel.assertQueue(queue, { durable: false })
      await channel.bindQueue(queue, `${pool.namespace}.events`, 'order.#')

      const sent = event('order.placed', { orderId: 'o-42', value: 1000 })
      await transport.publish(sent)

      let message: amqp.GetMessage | false = false
      for (let i = 0; i < 100 && message === false; i += 1) {
        message = await channel.get(queue, { noAck: true })
        if (message === false) await new Promise((resolve) => setTimeout(resolve, 10))
      }
      if (message === false) throw new Error('the raw client got nothing')
      expect(message.fields.routingKey).toBe('order.placed')
      expect(message.properties.type).toBe('order.placed')
      expect(message.properties.messageId).toBe(sent.id)
      expect(message.properties.contentType).toBe('application/cloudevents+json')
      expect(message.properties.deliveryMode).toBe(2)
      const decoded = decodeEnvelope(message.content)
      expect(decoded).toMatchObject({
        id: sent.id,
        type: 'order.placed',
        data: { orderId: 'o-42', value: 1000 },
      })
    } finally {
      await connection.close()
    }
  })

  it('a CloudEvents JSON message published by raw amqplib reaches a Tidings subscription', async () => {
    pool = new TransportPool()
    const transport = await pool.open()
    const inbox = new Inbox(({ delivery }) => delivery.ack())
    await transport.subscribe(subscription('svc-foreign', ['payment.*.done']), inbox.handler)

    const cloudEvent = {
      specversion: '1.0',
      id: 'foreign-0001',
      type: 'payment.purchase.done',
      source: '/legacy-billing',
      time: new Date().toISOString(),
      datacontenttype: 'application/json',
      data: { orderId: 'o-7' },
    }
    const connection = await amqp.connect(AMQP_URL)
    try {
      const channel = await connection.createConfirmChannel()
      channel.publish(`${pool.namespace}.events`, cloudEvent.type, Buffer.from(JSON.stringify(cloudEvent)), {
        persistent: true,
        contentType: 'application/cloudevents+json',
      })
      await channel.waitForConfirms()
    } finally {
      await connection.close()
    }
    const received = await inbox.next()
    expect(received.delivery.attempt).toBe(1)
    expect(received.delivery.history).toEqual([])
    expect(decodeEnvelope(received.delivery.body)).toMatchObject({
      id: 'foreign-0001',
      type: 'payment.purchase.done',
      source: '/legacy-billing',
      data: { orderId: 'o-7' },
    })
  })
})
