import { describeTransportConformance } from '@tidings/testkit/conformance'
import amqp from 'amqplib'
import { afterAll } from 'vitest'
import { type AmqpTransport, amqpTransport, type QueueType } from '../src/index.js'
import { AMQP_URL, deleteResources } from './helpers.js'

let raw: Promise<amqp.ChannelModel> | undefined
afterAll(async () => {
  await (await raw)?.close()
})

for (const queueType of ['classic', 'quorum'] as const satisfies readonly QueueType[]) {
  const transports = new Map<string, AmqpTransport[]>()

  describeTransportConformance(
    `amqp (${queueType} queues)`,
    ({ namespace }) => {
      const transport = amqpTransport({
        url: AMQP_URL,
        namespace,
        queueType,
        reconnect: { initialDelayMs: 50, maxDelayMs: 1000 },
      }) as AmqpTransport
      transports.set(namespace, [...(transports.get(namespace) ?? []), transport])
      return transport
    },
    {
      async injectRawMessage({ namespace, type }, body) {
        raw ??= amqp.connect(AMQP_URL)
        const channel = await (await raw).createConfirmChannel()
        channel.publish(`${namespace}.events`, type, body, { persistent: true })
        await channel.waitForConfirms()
        await channel.close()
      },
      async cleanup({ namespace }) {
        const created = transports.get(namespace) ?? []
        transports.delete(namespace)
        await Promise.all(created.map((transport) => transport.close().catch(() => {})))
        const queues = new Set(created.flatMap((transport) => transport.declaredResources().queues))
        const exchanges = new Set(created.flatMap((transport) => transport.declaredResources().exchanges))
        await deleteResources([...queues], [...exchanges])
      },
      crashRecoverySlackMs: 1000,
      outages: {
        broker: { host: new URL(AMQP_URL).hostname, port: Number(new URL(AMQP_URL).port || 5672) },
        makeTransport({ namespace }, via, { publishTimeoutMs }) {
          const url = new URL(AMQP_URL)
          url.hostname = via.host
          url.port = String(via.port)
          const transport = amqpTransport({
            url: url.toString(),
            namespace,
            queueType,
            publishTimeoutMs,
            connectTimeoutMs: publishTimeoutMs,
            reconnect: { initialDelayMs: 50, maxDelayMs: 500 },
          }) as AmqpTransport
          transports.set(namespace, [...(transports.get(namespace) ?? []), transport])
          return transport
        },
      },
    },
  )
}
