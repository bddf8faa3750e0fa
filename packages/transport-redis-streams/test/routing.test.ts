import { describe, expect, it } from 'vitest'
import { namespaceKeys } from '../src/keys.js'
import { message, record, sleep, subscribeOptions, useRedisTestNamespace, waitFor } from './support.js'

describe('redis-streams routing', () => {
  const redis = useRedisTestNamespace()

  const open = () => redis.open()

  it('fans every event out to each group once', async () => {
    const transport = await open()
    const shipping = await record(transport, subscribeOptions('shipping-create', ['order.placed']))
    const billing = await record(transport, subscribeOptions('billing-invoice', ['order.*']))
    const sent = [message('order.placed', { n: 1 }), message('order.placed', { n: 2 })]
    for (const m of sent) await transport.publish(m)
    await waitFor(() => shipping.log.length === 2 && billing.log.length === 2, 'both groups')
    await sleep(100)
    expect(shipping.log.map((r) => r.event.id)).toEqual(sent.map((m) => m.id))
    expect(billing.log.map((r) => r.event.id)).toEqual(sent.map((m) => m.id))
    expect(shipping.log[0]!.delivery.attempt).toBe(1)
    expect(shipping.log[0]!.delivery.redelivered).toBe(false)
  })

  it('competing processes of one group share the events, each delivered once', async () => {
    const a = await open()
    const b = await open()
    const one = await record(a, subscribeOptions('stock-reserve', ['order.placed'], { concurrency: 2 }))
    const two = await record(b, subscribeOptions('stock-reserve', ['order.placed'], { concurrency: 2 }))
    for (let i = 0; i < 40; i += 1) await a.publish(message('order.placed', { i }))
    await waitFor(() => one.log.length + two.log.length >= 40, '40 deliveries')
    await sleep(100)
    const ids = [...one.log, ...two.log].map((r) => r.event.id)
    expect(new Set(ids).size).toBe(40)
    expect(ids).toHaveLength(40)
  })

  it('matches * and # exactly, # also for zero words, for a group subscribed before any event exists', async () => {
    const transport = await open()
    const keys = namespaceKeys(redis.namespace)
    const hash = await record(transport, subscribeOptions('audit-all', ['order.#']))
    // The group (and its stream) exist as soon as subscribe() resolved, before any event.
    expect(await redis.raw.exists(keys.events)).toBe(1)
    const star = await record(transport, subscribeOptions('audit-star', ['order.*.done']))
    const middle = await record(transport, subscribeOptions('audit-middle', ['#.done']))
    const names = [
      'order',
      'order.placed',
      'order.payment.done',
      'order.a.b.done',
      'orders.placed',
      'done',
      'x.done',
    ]
    for (const name of names) await transport.publish(message(name))
    await waitFor(() => hash.log.length >= 4 && star.log.length >= 1 && middle.log.length >= 4, 'matches')
    await sleep(150)
    const types = (log: typeof hash.log) => log.map((r) => r.event.type).sort()
    expect(types(hash.log)).toEqual(['order', 'order.a.b.done', 'order.payment.done', 'order.placed'])
    expect(types(star.log)).toEqual(['order.payment.done'])
    expect(types(middle.log)).toEqual(['done', 'order.a.b.done', 'order.payment.done', 'x.done'])
    // Entries a group does not listen to are acknowledged, not left pending.
    await sleep(50)
    for (const group of ['audit-all', 'audit-star', 'audit-middle']) {
      const summary = (await redis.raw.xpending(keys.events, group)) as [number, ...unknown[]]
      expect(summary[0]).toBe(0)
    }
  })

  it('keeps events published while every process of a durable group is down', async () => {
    const first = await open()
    const options = subscribeOptions('mailer-send', ['user.registered'])
    const listening = await record(first, options)
    await first.close()
    const publisher = await open()
    const sent = message('user.registered', { email: 'a@b.c' })
    await publisher.publish(sent)
    expect(listening.log).toHaveLength(0)
    const second = await open()
    const back = await record(second, { ...options, consumerName: 'another-process' })
    await waitFor(() => back.log.length === 1, 'the event published while down')
    expect(back.log[0]!.event.id).toBe(sent.id)
  })

  it('removes an ephemeral group on close', async () => {
    const transport = await open()
    const keys = namespaceKeys(redis.namespace)
    const tail = await record(transport, subscribeOptions('cli-tail-1234abcd', ['#'], { durable: false }))
    await transport.publish(message('anything.happened'))
    await waitFor(() => tail.log.length === 1, 'tail delivery')
    const groups = async () =>
      ((await redis.raw.xinfo('GROUPS', keys.events)) as unknown[][]).map((g) => String(g[1]))
    expect(await groups()).toContain('cli-tail-1234abcd')
    await transport.close()
    expect(await groups()).not.toContain('cli-tail-1234abcd')
    expect(await redis.raw.zscore(keys.ephemeral, 'cli-tail-1234abcd')).toBeNull()
  })
})
