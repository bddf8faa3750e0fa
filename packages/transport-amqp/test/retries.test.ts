import { afterEach, describe, expect, it } from 'vitest'
import { bucketDelay } from '../src/delays.js'
import { event, failure, Inbox, sleep, subscription, TransportPool } from './helpers.js'

describe('amqp transport: delayed retries through wait queues', () => {
  let pool: TransportPool
  afterEach(async () => {
    await pool.cleanup()
  })

  it('a retry comes back after its delay, to the same group only, with attempt and history', async () => {
    pool = new TransportPool()
    const transport = await pool.open()
    const retried = new Inbox(async ({ delivery }) => {
      if (delivery.attempt === 1) {
        await delivery.retry({ delayMs: 150, attempt: 2, history: [failure(1, 'first try failed', 150)] })
      } else await delivery.ack()
    })
    const other = new Inbox(({ delivery }) => delivery.ack())
    await transport.subscribe(subscription('svc-retrying', ['order.*']), retried.handler)
    await transport.subscribe(subscription('svc-other', ['order.*']), other.handler)
    const sent = event('order.placed')
    await transport.publish(sent)

    const first = await retried.next()
    const second = await retried.next()
    expect(second.id).toBe(sent.id)
    expect(second.delivery.body.equals(sent.body)).toBe(true)
    expect(second.delivery.attempt).toBe(2)
    expect(second.delivery.redelivered).toBe(false)
    expect(second.delivery.history).toHaveLength(1)
    expect(second.delivery.history[0]).toMatchObject({
      attempt: 1,
      retryDelayMs: 150,
      error: { message: 'first try failed' },
    })
    expect(second.at - first.at).toBeGreaterThanOrEqual(150)
    expect(second.at - first.at).toBeLessThan(1150)

    await sleep(300)
    expect(other.received).toHaveLength(1) // the retry never reached the other group
    expect(retried.received).toHaveLength(2)
  })

  it('delay 0 goes straight back to the group queue', async () => {
    pool = new TransportPool()
    const transport = await pool.open()
    const inbox = new Inbox(async ({ delivery }) => {
      if (delivery.attempt < 3) {
        await delivery.retry({
          delayMs: 0,
          attempt: delivery.attempt + 1,
          history: [failure(delivery.attempt)],
        })
      } else await delivery.ack()
    })
    await transport.subscribe(subscription('svc-zero', ['order.*']), inbox.handler)
    await transport.publish(event('order.placed'))
    await inbox.count(3)
    expect(inbox.received.map((r) => r.delivery.attempt)).toEqual([1, 2, 3])
    // history is what the last retry() passed, not accumulated by the transport
    expect(inbox.received[2]!.delivery.history).toHaveLength(1)
  })

  it('two retries of 5 s and 100 ms: the 100 ms one comes back first (no head-of-line blocking)', async () => {
    pool = new TransportPool()
    const transport = await pool.open()
    const slow = event('order.slow')
    const fast = event('order.fast')
    const inbox = new Inbox(async ({ delivery, id }) => {
      if (delivery.attempt === 1) {
        const delayMs = id === slow.id ? 5_000 : 100
        await delivery.retry({ delayMs, attempt: 2, history: [failure(1, 'later', delayMs)] })
      } else await delivery.ack()
    })
    await transport.subscribe(subscription('svc-hol', ['order.*'], { concurrency: 1 }), inbox.handler)
    await transport.publish(slow) // queued first
    await transport.publish(fast)

    const firstSlow = await inbox.next((r) => r.id === slow.id && r.delivery.attempt === 1)
    const firstFast = await inbox.next((r) => r.id === fast.id && r.delivery.attempt === 1)
    const redelivered = await inbox.next((r) => r.delivery.attempt === 2, 8_000)
    expect(redelivered.id).toBe(fast.id)
    expect(redelivered.at - firstFast.at).toBeGreaterThanOrEqual(100)
    expect(redelivered.at - firstFast.at).toBeLessThan(1_100)

    const slowAgain = await inbox.next((r) => r.id === slow.id && r.delivery.attempt === 2, 8_000)
    expect(slowAgain.at - firstSlow.at).toBeGreaterThanOrEqual(5_000)
    expect(slowAgain.at - firstSlow.at).toBeLessThan(6_000)
  }, 15_000)

  it('many distinct delays at once are each honoured (G4 window)', async () => {
    pool = new TransportPool()
    const transport = await pool.open()
    const delays = [900, 50, 600, 300, 120]
    const sent = delays.map((_, i) => event(`order.d${i}`))
    const firstAt = new Map<string, number>()
    const inbox = new Inbox(async ({ delivery, id, at }) => {
      if (delivery.attempt === 1) {
        firstAt.set(id, at)
        const delayMs = delays[sent.findIndex((message) => message.id === id)]!
        await delivery.retry({ delayMs, attempt: 2, history: [] })
      } else await delivery.ack()
    })
    await transport.subscribe(subscription('svc-many', ['order.*']), inbox.handler)
    for (const message of sent) await transport.publish(message)
    await inbox.count(10, 5_000)
    const order = inbox.received.filter((r) => r.delivery.attempt === 2)
    for (const received of order) {
      const delay = delays[sent.findIndex((message) => message.id === received.id)]!
      const waited = received.at - firstAt.get(received.id)!
      expect(waited).toBeGreaterThanOrEqual(delay)
      expect(waited).toBeLessThan(delay + 1_000)
    }
    expect(order.map((r) => delays[sent.findIndex((message) => message.id === r.id)])).toEqual([
      50, 120, 300, 600, 900,
    ])
  })

  it('bucketDelay rounds up inside the G4 tolerance', () => {
    expect(bucketDelay(0)).toBe(0)
    expect(bucketDelay(-5)).toBe(0)
    expect(bucketDelay(1)).toBe(50)
    expect(bucketDelay(100)).toBe(100)
    expect(bucketDelay(101)).toBe(150)
    expect(bucketDelay(1_001)).toBe(1_250)
    expect(bucketDelay(10_001)).toBe(10_500)
    expect(bucketDelay(123_456)).toBe(125_000)
    for (let delay = 1; delay < 10_000_000; delay = Math.ceil(delay * 1.37)) {
      const bucket = bucketDelay(delay)
      expect(bucket).toBeGreaterThanOrEqual(delay)
      expect(bucket - delay).toBeLessThanOrEqual(Math.max(1_000, delay * 0.1) / 2)
    }
  })
})
