import amqp from 'amqplib'
import { afterEach, describe, expect, it } from 'vitest'
import { AMQP_URL, event, failure, Inbox, subscription, TransportPool } from './helpers.js'

describe('amqp transport: quorum queues', () => {
  let pool: TransportPool
  afterEach(async () => {
    await pool.cleanup()
  })

  it('declares quorum group and dead-letter queues with a delivery limit, and delivers through them', async () => {
    pool = new TransportPool()
    const transport = await pool.open({ queueType: 'quorum', deliveryLimit: 7 })
    const inbox = new Inbox(async ({ delivery }) => {
      if (delivery.attempt === 1) await delivery.retry({ delayMs: 100, attempt: 2, history: [failure(1)] })
      else await delivery.ack()
    })
    await transport.subscribe(subscription('svc-q', ['order.*']), inbox.handler)
    const sent = event('order.placed')
    await transport.publish(sent)
    await inbox.count(2)
    expect(inbox.received.map((r) => [r.id, r.delivery.attempt])).toEqual([
      [sent.id, 1],
      [sent.id, 2],
    ])

    // A quorum queue refuses a classic redeclaration: proves its type.
    const connection = await amqp.connect(AMQP_URL)
    const channel = await connection.createChannel()
    channel.on('error', () => {})
    await expect(
      channel.assertQueue(`${pool.namespace}.svc-q`, {
        durable: true,
        arguments: { 'x-queue-type': 'classic' },
      }),
    ).rejects.toThrow(/PRECONDITION_FAILED/)
    await connection.close().catch(() => {})
  })

  it("sets the quorum delivery limit from the listener's maxAttempts, above it, when none is given", async () => {
    pool = new TransportPool()
    const transport = await pool.open({ queueType: 'quorum' })
    await transport.subscribe(
      subscription('svc-limit', ['order.*'], { maxAttempts: 30 }),
      async (delivery) => {
        await delivery.ack()
      },
    )
    const declared = (limit: number) => ({
      durable: true,
      arguments: {
        'x-queue-type': 'quorum',
        'x-dead-letter-exchange': `${pool.namespace}.dlx`,
        'x-dead-letter-routing-key': 'svc-limit',
        'x-delivery-limit': limit,
      },
    })
    const connection = await amqp.connect(AMQP_URL)
    try {
      // Redeclaring with the same arguments succeeds; with another limit the broker refuses.
      const same = await connection.createChannel()
      await same.assertQueue(`${pool.namespace}.svc-limit`, declared(60))
      await same.close()
      const other = await connection.createChannel()
      other.on('error', () => {})
      await expect(other.assertQueue(`${pool.namespace}.svc-limit`, declared(20))).rejects.toThrow(
        /PRECONDITION_FAILED/,
      )
    } finally {
      await connection.close().catch(() => {})
    }
  })

  it('counts crash redeliveries with x-delivery-count', async () => {
    pool = new TransportPool()
    const options = { queueType: 'quorum' as const }
    const sent = event('order.placed')
    const attempts: number[] = []
    for (let crash = 0; crash < 2; crash += 1) {
      const crashed = await pool.open(options)
      const held = new Inbox()
      await crashed.subscribe(subscription('svc-qcrash', ['order.*']), held.handler)
      if (crash === 0) await crashed.publish(sent)
      attempts.push((await held.next()).delivery.attempt)
      await crashed.close()
    }
    const survivor = await pool.open(options)
    const inbox = new Inbox(({ delivery }) => delivery.ack())
    await survivor.subscribe(subscription('svc-qcrash', ['order.*']), inbox.handler)
    const received = await inbox.next()
    attempts.push(received.delivery.attempt)
    expect(received.delivery.redelivered).toBe(true)
    expect(attempts).toEqual([1, 2, 3])
  })

  it('dead letters on a quorum DLQ: list keeps the order, replay and purge work', async () => {
    pool = new TransportPool()
    const transport = await pool.open({ queueType: 'quorum' })
    let replaying = false
    const inbox = new Inbox(async ({ delivery, id }) => {
      if (replaying) return delivery.ack()
      await delivery.deadLetter({ id, history: [failure(1)], reason: 'exhausted' })
    })
    await transport.subscribe(subscription('svc-qdlq', ['order.*'], { concurrency: 1 }), inbox.handler)
    const sent = Array.from({ length: 4 }, (_, i) => event('order.placed', { i }))
    for (const message of sent) await transport.publish(message)
    await inbox.count(4)
    const deadLetters = transport.deadLetters('svc-qdlq')
    await expect.poll(() => deadLetters.count()).toBe(4)
    const ids = sent.map((message) => message.id)
    expect((await deadLetters.list({ limit: 10 })).map((letter) => letter.id)).toEqual(ids)
    expect((await deadLetters.list({ limit: 2 })).map((letter) => letter.id)).toEqual(ids.slice(0, 2))
    expect((await deadLetters.list({ limit: 10 })).map((letter) => letter.id)).toEqual(ids)
    replaying = true
    expect(await deadLetters.replay([ids[2]!])).toBe(1)
    await inbox.count(5)
    expect((await deadLetters.list({ limit: 10 })).map((letter) => letter.id)).toEqual([
      ids[0],
      ids[1],
      ids[3],
    ])
    expect(await deadLetters.purge()).toBe(3)
  })
})
