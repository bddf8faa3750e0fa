import { PublishError } from '@tidings/core'
import { createTcpProxy, type TcpProxy } from '@tidings/testkit'
import amqp from 'amqplib'
import { afterEach, describe, expect, it } from 'vitest'
import { AMQP_URL, event, Inbox, sleep, subscription, TransportPool } from './helpers.js'

function proxiedUrl(proxy: TcpProxy): string {
  const url = new URL(AMQP_URL)
  url.hostname = proxy.host
  url.port = String(proxy.port)
  return url.toString()
}

async function openProxy(): Promise<TcpProxy> {
  const target = new URL(AMQP_URL)
  return createTcpProxy({ host: target.hostname, port: Number(target.port || 5672) })
}

const fastReconnect = { reconnect: { initialDelayMs: 50, maxDelayMs: 500 } }

describe('amqp transport: connection loss and recovery', () => {
  let pool: TransportPool
  let proxy: TcpProxy | undefined
  afterEach(async () => {
    await pool.cleanup()
    await proxy?.close()
    proxy = undefined
  })

  it('cutting the connection mid-stream loses nothing: every published id is handled', async () => {
    pool = new TransportPool()
    proxy = await openProxy()
    const transport = await pool.open({ url: proxiedUrl(proxy), ...fastReconnect })
    const handled = new Set<string>()
    const inbox = new Inbox(async ({ delivery, id }) => {
      await sleep(1)
      await delivery.ack()
      handled.add(id)
    })
    await transport.subscribe(subscription('svc-cut', ['order.*'], { concurrency: 20 }), inbox.handler)

    const total = 600
    const published: string[] = []
    const inFlight = new Set<Promise<void>>()
    for (let i = 0; i < total; i += 1) {
      if (i === 200 || i === 400) proxy.cut()
      const message = event('order.placed', { i })
      const sending = transport.publish(message).then(() => {
        published.push(message.id)
      })
      inFlight.add(sending)
      void sending.finally(() => inFlight.delete(sending))
      if (inFlight.size >= 25) await Promise.race(inFlight)
    }
    await Promise.all(inFlight)
    expect(published).toHaveLength(total)

    await expect
      .poll(() => published.every((id) => handled.has(id)), { timeout: 15_000, interval: 50 })
      .toBe(true)
    expect(new Set(published)).toEqual(new Set([...handled].filter((id) => published.includes(id))))
    const kinds = transport.context.notices.map((notice) => notice.kind)
    expect(kinds.filter((kind) => kind === 'disconnected').length).toBeGreaterThanOrEqual(2)
    expect(kinds.filter((kind) => kind === 'reconnected').length).toBeGreaterThanOrEqual(2)
    expect(proxy.connectionCount).toBeGreaterThanOrEqual(3)
  })

  it('a publish during an outage waits up to publishTimeoutMs, then rejects with PublishError; it recovers after', async () => {
    pool = new TransportPool()
    proxy = await openProxy()
    const transport = await pool.open({
      url: proxiedUrl(proxy),
      publishTimeoutMs: 400,
      reconnect: { initialDelayMs: 20, maxDelayMs: 50 },
    })
    const inbox = new Inbox(({ delivery }) => delivery.ack())
    await transport.subscribe(subscription('svc-outage', ['order.*']), inbox.handler)

    proxy.block()
    const started = Date.now()
    const failed = transport.publish(event('order.placed'))
    await expect(failed).rejects.toBeInstanceOf(PublishError)
    await expect(failed).rejects.not.toThrow(/guest/)
    const waited = Date.now() - started
    expect(waited).toBeGreaterThanOrEqual(350)
    expect(waited).toBeLessThan(2_000)

    // a publish started during the outage that outlives it succeeds
    const pending = transport.publish(event('order.placed'))
    await sleep(100)
    proxy.restore()
    await pending
    const after = event('order.placed')
    await transport.publish(after)
    await inbox.next((r) => r.id === after.id)
  })

  it('a publish waiting on a reconnect tries at once: a back-off longer than publishTimeoutMs does not fail it', async () => {
    pool = new TransportPool()
    proxy = await openProxy()
    const transport = await pool.open({
      url: proxiedUrl(proxy),
      publishTimeoutMs: 1_500,
      // Each reconnection attempt would wait 5 s: longer than a publish may wait.
      reconnect: { initialDelayMs: 5_000, maxDelayMs: 5_000, jitter: 0 },
    })
    await transport.publish(event('order.placed'))
    proxy.block()
    await expect
      .poll(() => transport.context.notices.some((notice) => notice.kind === 'disconnected'), {
        timeout: 5_000,
      })
      .toBe(true)
    proxy.restore() // the broker is back, the reconnect loop still asleep
    await transport.publish(event('order.placed'))
  })

  it('resumes consuming when the broker cancels the consumer (queue deleted under it)', async () => {
    pool = new TransportPool()
    const transport = await pool.open(fastReconnect)
    const inbox = new Inbox(({ delivery }) => delivery.ack())
    await transport.subscribe(subscription('svc-cancelled', ['order.*']), inbox.handler)
    const connection = await amqp.connect(AMQP_URL)
    const channel = await connection.createChannel()
    await channel.deleteQueue(`${pool.namespace}.svc-cancelled`)
    await connection.close()
    await sleep(300) // the consumer re-declares its queue and bindings
    const sent = event('order.placed')
    await transport.publish(sent)
    expect((await inbox.next()).id).toBe(sent.id)
  })
})
