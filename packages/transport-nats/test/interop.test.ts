import { jetstreamManager } from '@nats-io/jetstream'
import { createBus, type DeadLetter, type Event, encodeEnvelope, silentLogger } from '@tidings/core'
import { waitUntil } from '@tidings/testkit'
import { describe, expect, it } from 'vitest'
import { natsTransport } from '../src/index.js'
import { namespaceSubjects } from '../src/subjects.js'
import {
  message,
  rawConnection,
  record,
  subscribeOptions,
  testOptions,
  useNatsTestNamespace,
} from './support.js'

describe('nats interop with plain nats.js clients', () => {
  const nats = useNatsTestNamespace()

  it('a plain nats.js subscriber reads a Tidings event as CloudEvents JSON on <ns>.events.<type>', async () => {
    const transport = await nats.open()
    const raw = await rawConnection()
    try {
      const subscription = raw.subscribe(namespaceSubjects(nats.namespace).event('order.placed'), { max: 1 })
      // The server must know the subscription before the transport's own connection publishes: the
      // round trip of flush() makes sure (without it, under load, the event went out first).
      await raw.flush()
      const sent = message('order.placed', { orderId: 'o-1' })
      await transport.publish(sent)
      for await (const received of subscription) {
        const envelope = received.json<Record<string, unknown>>()
        expect(envelope).toMatchObject({
          specversion: '1.0',
          type: 'order.placed',
          id: sent.id,
          data: { orderId: 'o-1' },
        })
        expect(received.headers?.get('Nats-Msg-Id')).toBe(sent.id)
      }
    } finally {
      await raw.close()
    }
  })

  it("handles a plain nats.js publisher's CloudEvent and sends its garbage to the group's dead letters without stopping", async () => {
    const bus = createBus({
      service: 'shipping',
      logger: silentLogger,
      transport: natsTransport(testOptions(nats.namespace)),
    })
    const handled: Event[] = []
    bus.listen('order.placed', async (event) => void handled.push(event), { name: 'create-shipment' })
    await bus.start()
    const raw = await rawConnection()
    try {
      const subject = namespaceSubjects(nats.namespace).event('order.placed')
      const js = (await import('@nats-io/jetstream')).jetstream(raw)
      const foreign = encodeEnvelope({
        type: 'order.placed',
        data: { orderId: 'from-go' },
        source: '/go-service',
      })
      await js.publish(subject, Buffer.from('\u0000not json at all'))
      await js.publish(subject, foreign.text)
      await waitUntil(() => handled.length === 1, { timeoutMs: 10_000, what: 'the foreign CloudEvent' })
      expect(handled[0]!.data).toEqual({ orderId: 'from-go' })
      let deadLetters: DeadLetter[] = []
      await waitUntil(
        async () => {
          deadLetters = await bus.deadLetters('shipping-create-shipment').list()
          return deadLetters.length === 1
        },
        { timeoutMs: 10_000, what: 'the garbage in the dead letters' },
      )
      expect(deadLetters[0]!.reason).toMatch(/decode/i)
    } finally {
      await raw.close()
      await bus.close()
    }
  })

  it('drops a second publish of the same event id within the duplicate window (a resend after a lost PubAck)', async () => {
    const transport = await nats.open()
    const { log } = await record(transport, subscribeOptions('billing-charge', ['order.placed']))
    const sent = message('order.placed', {})
    await transport.publish(sent)
    await transport.publish(sent)
    await transport.publish(message('order.placed', {}))
    await waitUntil(() => log.length >= 2, { timeoutMs: 5000, what: 'two deliveries' })
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(log.filter((r) => r.event.id === sent.id)).toHaveLength(1)
    const raw = await rawConnection()
    const info = await (await jetstreamManager(raw)).streams.info(`${nats.namespace}-events`)
    await raw.close()
    expect(info.state.last_seq).toBe(2)
  })
})
