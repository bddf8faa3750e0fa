import { ConfigError, TransportClosedError } from '@tidings/core'
import amqp from 'amqplib'
import { afterEach, describe, expect, it } from 'vitest'
import { AMQP_URL, event, Inbox, sleep, subscription, TransportPool } from './helpers.js'

describe('amqp transport: publish, subscribe, close', () => {
  let pool: TransportPool
  afterEach(async () => {
    await pool.cleanup()
  })

  it('publish → subscribe → ack: the body arrives unchanged as attempt 1, and the ack removes it', async () => {
    pool = new TransportPool()
    const transport = await pool.open()
    const inbox = new Inbox((received) => received.delivery.ack())
    await transport.subscribe(subscription('shop-orders', ['order.*']), inbox.handler)
    const sent = event('order.placed', { orderId: 'o-1' })
    await transport.publish(sent)
    await transport.publish(event('payment.done')) // not matching: never delivered

    const received = await inbox.next()
    expect(received.delivery.body.equals(sent.body)).toBe(true)
    expect(received.delivery.attempt).toBe(1)
    expect(received.delivery.history).toEqual([])
    expect(received.delivery.redelivered).toBe(false)
    await sleep(100)
    expect(inbox.received).toHaveLength(1)

    const connection = await amqp.connect(AMQP_URL)
    const channel = await connection.createChannel()
    const queue = await channel.checkQueue(`${pool.namespace}.shop-orders`)
    expect(queue.messageCount).toBe(0)
    await connection.close()
  })

  it('the group exists durably once subscribe() resolves: events published while it is stopped wait for it', async () => {
    pool = new TransportPool()
    const first = await pool.open()
    const subscribed = await first.subscribe(subscription('shop-late', ['order.#']), async () => {})
    await subscribed.stop()
    await first.close()

    const publisher = await pool.open()
    const sent = event('order.placed.eu')
    await publisher.publish(sent)

    const second = await pool.open()
    const inbox = new Inbox((received) => received.delivery.ack())
    await second.subscribe(subscription('shop-late', ['order.#']), inbox.handler)
    expect((await inbox.next()).id).toBe(sent.id)
  })

  it('groups compete within a group and each group gets its own copy', async () => {
    pool = new TransportPool()
    const a1 = await pool.open()
    const a2 = await pool.open()
    const b = await pool.open()
    const inboxA = new Inbox((received) => received.delivery.ack())
    const inboxB = new Inbox((received) => received.delivery.ack())
    await a1.subscribe(subscription('svc-a', ['x.*']), inboxA.handler)
    await a2.subscribe(subscription('svc-a', ['x.*']), inboxA.handler)
    await b.subscribe(subscription('svc-b', ['#']), inboxB.handler)
    const sent = Array.from({ length: 20 }, (_, i) => event(`x.e${i % 3}`))
    await Promise.all(sent.map((message) => a1.publish(message)))
    await inboxA.count(20)
    await inboxB.count(20)
    await sleep(100)
    expect(new Set(inboxA.received.map((r) => r.id))).toEqual(new Set(sent.map((m) => m.id)))
    expect(inboxA.received).toHaveLength(20)
    expect(inboxB.received).toHaveLength(20)
  })

  it('close() without ack: another process of the group gets the delivery, flagged redelivered', async () => {
    pool = new TransportPool()
    const crashed = await pool.open()
    const held = new Inbox() // never settles
    await crashed.subscribe(subscription('shop-crash', ['order.*']), held.handler)
    const sent = event('order.placed')
    await crashed.publish(sent)
    await held.next()
    await crashed.close()

    const survivor = await pool.open()
    const inbox = new Inbox((received) => received.delivery.ack())
    await survivor.subscribe(subscription('shop-crash', ['order.*']), inbox.handler)
    const received = await inbox.next()
    expect(received.id).toBe(sent.id)
    expect(received.delivery.redelivered).toBe(true)
    expect(received.delivery.attempt).toBe(2)
  })

  it('never more than `concurrency` unsettled deliveries at once', async () => {
    pool = new TransportPool()
    const transport = await pool.open()
    const inbox = new Inbox()
    await transport.subscribe(subscription('shop-bounded', ['order.*'], { concurrency: 3 }), inbox.handler)
    await Promise.all(Array.from({ length: 10 }, () => transport.publish(event('order.placed'))))
    await inbox.count(3)
    await sleep(200)
    expect(inbox.received).toHaveLength(3)
    await inbox.received[0]!.delivery.ack()
    await inbox.count(4)
    await sleep(100)
    expect(inbox.received).toHaveLength(4)
  })

  it('a settled delivery ignores a second settle instead of closing the channel', async () => {
    pool = new TransportPool()
    const transport = await pool.open()
    const inbox = new Inbox()
    await transport.subscribe(subscription('shop-twice', ['order.*']), inbox.handler)
    await transport.publish(event('order.placed'))
    const first = await inbox.next()
    await first.delivery.ack()
    await first.delivery.ack()
    await first.delivery.retry({ delayMs: 0, attempt: 2, history: [] })
    const second = event('order.placed')
    await transport.publish(second)
    expect((await inbox.next((r) => r.id === second.id)).delivery.attempt).toBe(1)
    await sleep(100)
    expect(inbox.received).toHaveLength(2) // the ignored retry did not produce a copy
  })

  it('a failing declaration does not stop consuming, and is a ConfigError that says what to fix', async () => {
    pool = new TransportPool()
    const transport = await pool.open()
    const inbox = new Inbox((received) => received.delivery.ack())
    await transport.subscribe(subscription('shop-ok', ['order.*']), inbox.handler)

    const conflicting = `${pool.namespace}.shop-conflict`
    pool.extraQueues.add(conflicting)
    const connection = await amqp.connect(AMQP_URL)
    const channel = await connection.createChannel()
    await channel.assertQueue(conflicting, { durable: true, arguments: { 'x-queue-type': 'quorum' } })
    await connection.close()

    const failure = transport.subscribe(subscription('shop-conflict', ['order.*']), async () => {})
    await expect(failure).rejects.toBeInstanceOf(ConfigError)
    await expect(failure).rejects.toThrow(/queueType/)

    const sent = event('order.placed')
    await transport.publish(sent)
    expect((await inbox.next()).id).toBe(sent.id)
  })

  it('ephemeral groups (durable: false) are removed on close', async () => {
    pool = new TransportPool()
    const transport = await pool.open()
    const inbox = new Inbox((received) => received.delivery.ack())
    await transport.subscribe(subscription('tail-1', ['#'], { durable: false }), inbox.handler)
    await transport.publish(event('order.placed'))
    await inbox.next()
    await transport.close()

    const connection = await amqp.connect(AMQP_URL)
    const channel = await connection.createChannel()
    channel.on('error', () => {})
    await expect(channel.checkQueue(`${pool.namespace}.tail-1`)).rejects.toThrow(/NOT_FOUND/)
    await connection.close().catch(() => {})
  })

  it('publish() and subscribe() after close() reject with TransportClosedError', async () => {
    pool = new TransportPool()
    const transport = await pool.open()
    await transport.close()
    await expect(transport.publish(event('order.placed'))).rejects.toBeInstanceOf(TransportClosedError)
    await expect(transport.subscribe(subscription('g', ['#']), async () => {})).rejects.toBeInstanceOf(
      TransportClosedError,
    )
  })
})
