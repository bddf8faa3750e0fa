/**
 * `npm run bench -- amqp`: RabbitMQ through Tidings (createBus + amqpTransport) and through raw
 * amqplib, in the same run, with the same durability on both sides: confirm channel, persistent
 * messages, one durable classic queue, manual acks, prefetch 100, 1 KiB JSON events.
 *
 * Set TIDINGS_AMQP_URL to use another broker (default amqp://guest:guest@127.0.0.1:5672).
 */
import { randomUUID } from 'node:crypto'
import { type Bus, createBus, silentLogger } from '@tidings/core'
import { type AmqpTransport, amqpTransport } from '@tidings/transport-amqp'
import amqp from 'amqplib'
import {
  type BenchSide,
  benchSide,
  compareWithRaw,
  makePayload,
  rawCloudEvent,
  tidingsConsumer,
} from './harness.js'

const URL = process.env.TIDINGS_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672'
const MAX_EVENTS = Number(process.env.BENCH_EVENTS ?? 50_000)
const CONSUME_EVENTS = Number(process.env.BENCH_CONSUME_EVENTS ?? 20_000)
const LATENCY_EVENTS = Number(process.env.BENCH_LATENCY_EVENTS ?? 5_000)
const RUNS = Number(process.env.BENCH_RUNS ?? 5)
const PREFETCH = 100
const TYPE = 'bench.order.placed'

type Payload = ReturnType<typeof makePayload>

// ---- raw amqplib ---------------------------------------------------------------------------------

async function rawSide(): Promise<BenchSide> {
  const namespace = `benchraw${randomUUID().slice(0, 8)}`
  const exchange = `${namespace}.events`
  const queue = `${namespace}.group`
  // Like Tidings (a publishing bus and a consuming bus): one connection to publish, one to consume,
  // and TCP_NODELAY on both, as any latency-minded amqplib user would set.
  const connection = await amqp.connect(URL, { noDelay: true })
  const consuming = await amqp.connect(URL, { noDelay: true })
  const admin = await connection.createChannel()
  await admin.assertExchange(exchange, 'topic', { durable: true })
  await admin.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'classic' } })
  await admin.bindQueue(queue, exchange, 'bench.#')
  const publisher = await connection.createConfirmChannel()
  const payload = makePayload(1024)

  /**
   * What a raw user would send: a CloudEvents envelope built with JSON.stringify, with the same AMQP
   * properties Tidings sets (messageId, type), so both sides move the same messages.
   */
  const publishOne = (data: Payload): Promise<void> =>
    new Promise((resolve, reject) => {
      const event = rawCloudEvent(TYPE, data)
      const id = event.id
      const body = Buffer.from(event.body)
      publisher.publish(
        exchange,
        TYPE,
        body,
        { persistent: true, contentType: 'application/cloudevents+json', messageId: id, type: TYPE },
        (error) => (error ? reject(error) : resolve()),
      )
    })

  /** Consumes until `count` messages were handled, calling `onMessage` for each; resolves to a stop(). */
  const consumer = async (onMessage: (data: Payload) => void): Promise<() => Promise<void>> => {
    const channel = await consuming.createChannel()
    await channel.prefetch(PREFETCH)
    const { consumerTag } = await channel.consume(
      queue,
      (message) => {
        if (!message) return
        const envelope = JSON.parse(message.content.toString('utf8')) as { data: Payload }
        onMessage(envelope.data)
        channel.ack(message)
      },
      { noAck: false },
    )
    return async () => {
      await channel.cancel(consumerTag)
      await channel.close()
    }
  }

  return benchSide('raw', {
    publishOne: () => publishOne(payload),
    async afterPublish() {
      await admin.purgeQueue(queue)
    },
    consumer,
    publishStamped: (sentAt) => void publishOne({ ...payload, sentAt }),
    async cleanup() {
      await admin.deleteQueue(queue)
      await admin.deleteExchange(exchange)
      await connection.close()
      await consuming.close()
    },
  })
}

// ---- Tidings ---------------------------------------------------------------------------------------

async function tidingsSide(): Promise<BenchSide> {
  const namespace = `benchtd${randomUUID().slice(0, 8)}`
  const transports: AmqpTransport[] = []
  const newBus = (): Bus => {
    const transport = amqpTransport({ url: URL, namespace, prefetch: PREFETCH }) as AmqpTransport
    transports.push(transport)
    return createBus({ service: 'bench', transport, logger: silentLogger })
  }
  const listenOptions = { name: 'group', concurrency: PREFETCH, retry: false as const }
  const publisher = newBus()
  // Create the durable group once (as a first start() does), so publishes are stored in its queue.
  const creator = newBus()
  creator.listen('bench.#', () => {}, listenOptions)
  await creator.start()
  await creator.close()
  const payload = makePayload(1024)

  const consumer = tidingsConsumer<Payload>(newBus, listenOptions)

  const purge = async (): Promise<void> => {
    const connection = await amqp.connect(URL)
    const channel = await connection.createChannel()
    await channel.purgeQueue(`${namespace}.bench-group`)
    await connection.close()
  }

  return benchSide('Tidings', {
    publishOne: () => publisher.publish(TYPE, payload),
    async afterPublish() {
      await purge()
    },
    consumer,
    publishStamped: (sentAt) => void publisher.publish(TYPE, { ...payload, sentAt }),
    async cleanup() {
      await publisher.close()
      const connection = await amqp.connect(URL)
      const channel = await connection.createChannel()
      const queues = new Set(transports.flatMap((transport) => transport.declaredResources().queues))
      for (const queue of queues) await channel.deleteQueue(queue)
      for (const exchange of transports[0]!.declaredResources().exchanges)
        await channel.deleteExchange(exchange)
      await connection.close()
    },
  })
}

// ---- run -------------------------------------------------------------------------------------------

export async function main(): Promise<void> {
  await compareWithRaw(
    {
      title: `RabbitMQ, classic durable queue, confirms, persistent, prefetch ${PREFETCH}`,
      rawName: 'raw amqplib',
      publishLabel: 'publish (confirm awaited)',
      consumeLabel: `consume (prefetch ${PREFETCH}, manual ack)`,
      maxEvents: MAX_EVENTS,
      consumeEvents: CONSUME_EVENTS,
      latencyEvents: LATENCY_EVENTS,
      runs: RUNS,
    },
    rawSide,
    tidingsSide,
  )
}
