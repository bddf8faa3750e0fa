import { afterEach, describe, expect, it } from 'vitest'
import { event, failure, Inbox, subscription, TransportPool } from './helpers.js'

describe('amqp transport: dead letters', () => {
  let pool: TransportPool
  afterEach(async () => {
    await pool.cleanup()
  })

  it('deadLetter → list (non-destructive, oldest first) / count / replay by id / purge', async () => {
    pool = new TransportPool()
    const transport = await pool.open()
    const history = [failure(1, 'first', 10), failure(2, 'second')]
    let replaying = false
    const inbox = new Inbox(async ({ delivery, id }) => {
      if (replaying) return delivery.ack()
      await delivery.deadLetter({ id, type: 'order.placed', history, reason: 'exhausted after 2 attempts' })
    })
    const group = 'svc-dlq'
    await transport.subscribe(subscription(group, ['order.*'], { concurrency: 1 }), inbox.handler)
    const sent = [
      event('order.placed', { n: 1 }),
      event('order.placed', { n: 2 }),
      event('order.placed', { n: 3 }),
    ]
    for (const message of sent) await transport.publish(message)
    await inbox.count(3)

    const deadLetters = transport.deadLetters(group)
    await expect.poll(() => deadLetters.count()).toBe(3)
    const listed = await deadLetters.list({ limit: 2 })
    expect(listed.map((letter) => letter.id)).toEqual([sent[0]!.id, sent[1]!.id])
    expect(listed[0]!.body.equals(sent[0]!.body)).toBe(true)
    expect(listed[0]!.group).toBe(group)
    expect(listed[0]!.reason).toBe('exhausted after 2 attempts')
    expect(listed[0]!.history).toEqual(history)
    expect(Date.parse(listed[0]!.deadLetteredAt)).toBeGreaterThan(Date.now() - 60_000)
    // listing changed nothing: same order, same count
    expect((await deadLetters.list({ limit: 10 })).map((letter) => letter.id)).toEqual(sent.map((m) => m.id))
    expect(await deadLetters.count()).toBe(3)

    replaying = true
    expect(await deadLetters.replay([sent[1]!.id, 'not-there'])).toBe(1)
    const replayed = await inbox.next((r) => r.id === sent[1]!.id && inbox.received.indexOf(r) >= 3)
    expect(replayed.delivery.attempt).toBe(1)
    expect(replayed.delivery.history).toEqual([])
    expect(replayed.delivery.body.equals(sent[1]!.body)).toBe(true)
    expect(await deadLetters.count()).toBe(2)
    expect((await deadLetters.list({ limit: 10 })).map((letter) => letter.id)).toEqual([
      sent[0]!.id,
      sent[2]!.id,
    ])

    expect(await deadLetters.purge()).toBe(2)
    expect(await deadLetters.count()).toBe(0)
    expect(await deadLetters.list({ limit: 10 })).toEqual([])
  })

  it("replay('all') sends every dead letter back to its own group only", async () => {
    pool = new TransportPool()
    const transport = await pool.open()
    let replaying = false
    const inbox = new Inbox(async ({ delivery, id }) => {
      if (replaying) return delivery.ack()
      await delivery.deadLetter({ id, history: [failure(1)], reason: 'non-retryable' })
    })
    const other = new Inbox(({ delivery }) => delivery.ack())
    await transport.subscribe(subscription('svc-replay', ['order.*']), inbox.handler)
    await transport.subscribe(subscription('svc-bystander', ['order.*']), other.handler)
    for (let i = 0; i < 5; i += 1) await transport.publish(event('order.placed', { i }))
    await inbox.count(5)
    const deadLetters = transport.deadLetters('svc-replay')
    await expect.poll(() => deadLetters.count()).toBe(5)
    replaying = true
    expect(await deadLetters.replay('all')).toBe(5)
    await inbox.count(10)
    expect(await deadLetters.count()).toBe(0)
    expect(other.received).toHaveLength(5)
  })

  it('a DLQ that was never declared counts 0 and lists nothing', async () => {
    pool = new TransportPool()
    const transport = await pool.open()
    const deadLetters = transport.deadLetters('never-subscribed')
    expect(await deadLetters.count()).toBe(0)
    expect(await deadLetters.list({ limit: 5 })).toEqual([])
    expect(await deadLetters.purge()).toBe(0)
    expect(await deadLetters.replay('all')).toBe(0)
  })
})
