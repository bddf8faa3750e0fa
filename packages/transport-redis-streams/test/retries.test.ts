import type { AttemptFailure } from '@tidings/core'
import { describe, expect, it } from 'vitest'
import { namespaceKeys } from '../src/keys.js'
import { message, record, sleep, subscribeOptions, useRedisTestNamespace, waitFor } from './support.js'

const failure = (attempt: number, retryDelayMs?: number): AttemptFailure => ({
  attempt,
  at: new Date().toISOString(),
  error: { name: 'Error', message: `failed ${attempt}`, stack: 'Error: failed\n    at handler' },
  ...(retryDelayMs === undefined ? {} : { retryDelayMs }),
})

describe('redis-streams retries and dead letters', () => {
  const redis = useRedisTestNamespace()

  const open = () => redis.open()

  it('a delayed retry returns to the same group only, no earlier than the delay, with attempt and history', async () => {
    const transport = await open()
    const retried = await record(
      transport,
      subscribeOptions('shipping-create', ['order.placed']),
      async (delivery) => {
        if (delivery.attempt === 1) {
          await delivery.retry({ delayMs: 200, attempt: 2, history: [failure(1, 200)] })
        } else await delivery.ack()
      },
    )
    const other = await record(transport, subscribeOptions('billing-invoice', ['order.placed']))
    const sent = message('order.placed', { n: 1 })
    await transport.publish(sent)
    await waitFor(() => retried.log.length === 2, 'the retry')
    const [first, second] = retried.log
    expect(second!.event.id).toBe(sent.id)
    expect(second!.delivery.body.equals(sent.body)).toBe(true)
    expect(second!.delivery.attempt).toBe(2)
    expect(second!.delivery.history).toEqual([expect.objectContaining({ attempt: 1, retryDelayMs: 200 })])
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(195)
    expect(second!.at - first!.at).toBeLessThan(200 + 1000)
    await sleep(100)
    expect(other.log).toHaveLength(1)
    const keys = namespaceKeys(redis.namespace)
    expect(await redis.raw.zcard(keys.group('shipping-create').delayed)).toBe(0)
    expect(await redis.raw.exists(keys.group('billing-invoice').retry)).toBe(1) // its own, empty
    expect(await redis.raw.xlen(keys.group('billing-invoice').retry)).toBe(0)
  })

  it('a 100 ms retry overtakes a 5000 ms one (no head-of-line blocking)', async () => {
    const transport = await open()
    const seen: string[] = []
    const { log } = await record(
      transport,
      subscribeOptions('reports-build', ['report.*']),
      async (delivery, event) => {
        seen.push(`${event.type}#${delivery.attempt}`)
        if (delivery.attempt > 1) return delivery.ack()
        const delayMs = event.type === 'report.slow' ? 5000 : 100
        await delivery.retry({ delayMs, attempt: 2, history: [failure(1, delayMs)] })
      },
    )
    await transport.publish(message('report.slow'))
    await transport.publish(message('report.fast'))
    const fresh = message('report.fresh')
    await sleep(20)
    await transport.publish(fresh)
    await waitFor(() => seen.includes('report.fast#2'), 'the short retry', 3000)
    expect(seen).not.toContain('report.slow#2')
    expect(seen.indexOf('report.fresh#1')).toBeGreaterThan(-1)
    expect(log.length).toBe(4)
  })

  it('retry with delay 0 goes straight to the retry stream', async () => {
    const transport = await open()
    const { log } = await record(transport, subscribeOptions('now-again', ['x.y']), async (delivery) => {
      if (delivery.attempt < 3)
        await delivery.retry({ delayMs: 0, attempt: delivery.attempt + 1, history: [] })
      else await delivery.ack()
    })
    await transport.publish(message('x.y'))
    await waitFor(() => log.length === 3, 'three attempts', 2000)
    expect(log.map((r) => r.delivery.attempt)).toEqual([1, 2, 3])
  })

  it('retries and dead letters carry the stored bytes exactly, even bytes that are not UTF-8', async () => {
    const transport = await open()
    const group = 'foreign-bytes'
    // A foreign publisher's body: invalid UTF-8 around some JSON. Read as text it turns into U+FFFD
    // replacement characters; the retry and dead-letter scripts copy the stored bytes instead.
    const foreign = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('{"x":1}'), Buffer.from([0xc3])])
    const attempts: number[] = []
    await transport.subscribe(subscribeOptions(group, ['raw.#']), async (delivery) => {
      attempts.push(delivery.attempt)
      if (delivery.attempt === 1) await delivery.retry({ delayMs: 0, attempt: 2, history: [failure(1, 0)] })
      else await delivery.deadLetter({ id: 'foreign-1', type: 'raw.bytes', history: [], reason: 'test' })
    })
    await redis.raw.xadd(namespaceKeys(redis.namespace).events, '*', 'type', 'raw.bytes', 'body', foreign)
    const dlq = transport.deadLetters(group)
    let letters = 0
    const counting = setInterval(() => void dlq.count().then((count) => (letters = count)), 5)
    try {
      await waitFor(() => letters === 1, 'the dead letter')
    } finally {
      clearInterval(counting)
    }
    expect(attempts).toEqual([1, 2])
    const [letter] = await dlq.list({ limit: 1 })
    expect(letter!.id).toBe('foreign-1')
    expect(letter!.body.equals(foreign)).toBe(true)
  })

  it('dead letters keep the body and history; list, count, replay and purge', async () => {
    const transport = await open()
    const group = 'payments-capture'
    const history = [failure(1, 10), failure(2)]
    let failing = true
    const { log } = await record(
      transport,
      subscribeOptions(group, ['payment.#']),
      async (delivery, event) => {
        if (failing)
          await delivery.deadLetter({
            id: event.id,
            type: event.type,
            history,
            reason: 'exhausted after 2 attempts',
          })
        else await delivery.ack()
      },
    )
    const sent = [
      message('payment.requested', { n: 1 }),
      message('payment.requested', { n: 2 }),
      message('payment.x', { n: 3 }),
    ]
    for (const m of sent) await transport.publish(m)
    const dlq = transport.deadLetters(group)
    await waitFor(() => log.length === 3, 'three deliveries')
    expect(await dlq.count()).toBe(3)
    const listed = await dlq.list({ limit: 2 })
    expect(listed.map((d) => d.id)).toEqual([sent[0]!.id, sent[1]!.id])
    expect(listed[0]!.body.equals(sent[0]!.body)).toBe(true)
    expect(listed[0]!.group).toBe(group)
    expect(listed[0]!.history).toEqual(history)
    expect(listed[0]!.reason).toBe('exhausted after 2 attempts')
    expect(Number.isNaN(Date.parse(listed[0]!.deadLetteredAt))).toBe(false)
    expect(await dlq.count()).toBe(3) // list does not consume

    // Another group never sees the replay.
    const bystander = await record(transport, subscribeOptions('bystander', ['payment.#']))
    failing = false
    expect(await dlq.replay([sent[1]!.id])).toBe(1)
    await waitFor(() => log.length === 4, 'the replayed one')
    expect(log[3]!.event.id).toBe(sent[1]!.id)
    expect(log[3]!.delivery.attempt).toBe(1)
    expect(log[3]!.delivery.history).toEqual([])
    expect(await dlq.count()).toBe(2)
    expect(await dlq.replay('all')).toBe(2)
    await waitFor(() => log.length === 6, 'all replayed')
    expect(await dlq.count()).toBe(0)
    await sleep(100)
    expect(bystander.log).toHaveLength(0)

    failing = true
    await transport.publish(message('payment.requested', { n: 4 }))
    await waitFor(() => log.length === 7, 'one more')
    expect(await dlq.purge()).toBe(1)
    expect(await dlq.count()).toBe(0)
    expect(await dlq.list({ limit: 10 })).toEqual([])
    // Nothing stays pending after settling.
    const keys = namespaceKeys(redis.namespace)
    const pending = (await redis.raw.xpending(keys.events, group)) as [number]
    expect(pending[0]).toBe(0)
  })
})
