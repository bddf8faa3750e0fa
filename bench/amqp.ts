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
import { type BenchRow, LatencyRecorder, makePayload, now, paced, printTable, until } from './harness.js'

const URL = process.env.TIDINGS_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672'
const EVENTS = Number(process.env.BENCH_EVENTS ?? 20_000)
const LATENCY_EVENTS = Number(process.env.BENCH_LATENCY_EVENTS ?? 10_000)
const RUNS = 3
const BATCH = 1_000
const PREFETCH = 100
const TYPE = 'bench.order.placed'

type Payload = ReturnType<typeof makePayload>

/** The four measures every side provides. */
interface Side {
  publish(count: number): Promise<number>
  consume(count: number): Promise<number>
  endToEnd(count: number): Promise<number>
  latency(count: number): Promise<{ p50: number; p99: number }>
  cleanup(): Promise<void>
}

// ---- raw amqplib ---------------------------------------------------------------------------------

async function rawSide(): Promise<Side> {
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

  /** What a raw user would send: a CloudEvents envelope built with JSON.stringify. */
  const publishOne = (data: Payload): Promise<void> =>
    new Promise((resolve, reject) => {
      const body = Buffer.from(
        JSON.stringify({
          specversion: '1.0',
          id: randomUUID(),
          type: TYPE,
          source: '/bench',
          time: new Date().toISOString(),
          datacontenttype: 'application/json',
          data,
        }),
      )
      publisher.publish(
        exchange,
        TYPE,
        body,
        { persistent: true, contentType: 'application/cloudevents+json' },
        (error) => (error ? reject(error) : resolve()),
      )
    })

  const publishAll = async (count: number): Promise<void> => {
    for (let sent = 0; sent < count; sent += BATCH) {
      const batch: Promise<void>[] = []
      for (let i = 0; i < Math.min(BATCH, count - sent); i += 1) batch.push(publishOne(payload))
      await Promise.all(batch)
    }
  }

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

  return {
    async publish(count) {
      const started = now()
      await publishAll(count)
      const rate = (count / (now() - started)) * 1000
      await admin.purgeQueue(queue)
      return rate
    },
    async consume(count) {
      await publishAll(count)
      // Timed from the first delivery to the last: connecting and declaring are not consuming.
      let handled = 0
      let started = 0
      const stop = await consumer(() => {
        if (handled === 0) started = now()
        handled += 1
      })
      await until(() => handled >= count, 120_000, 'raw consume')
      const rate = ((count - 1) / (now() - started)) * 1000
      await stop()
      return rate
    },
    async endToEnd(count) {
      let handled = 0
      const stop = await consumer(() => {
        handled += 1
      })
      const started = now()
      await publishAll(count)
      await until(() => handled >= count, 120_000, 'raw end-to-end')
      const rate = (count / (now() - started)) * 1000
      await stop()
      return rate
    },
    async latency(count) {
      const recorder = new LatencyRecorder(count)
      const stop = await consumer((data) => recorder.record(data.sentAt))
      await paced(1000, count, () => void publishOne({ ...payload, sentAt: now() }))
      await recorder.done
      await stop()
      return recorder.percentiles()
    },
    async cleanup() {
      await admin.deleteQueue(queue)
      await admin.deleteExchange(exchange)
      await connection.close()
      await consuming.close()
    },
  }
}

// ---- Tidings ---------------------------------------------------------------------------------------

async function tidingsSide(): Promise<Side> {
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

  const publishAll = async (count: number): Promise<void> => {
    for (let sent = 0; sent < count; sent += BATCH) {
      const batch: Promise<unknown>[] = []
      for (let i = 0; i < Math.min(BATCH, count - sent); i += 1) batch.push(publisher.publish(TYPE, payload))
      await Promise.all(batch)
    }
  }

  const consumer = async (onMessage: (data: Payload) => void): Promise<() => Promise<void>> => {
    const bus = newBus()
    bus.listen('bench.#', (event) => onMessage(event.data as Payload), listenOptions)
    await bus.start()
    return () => bus.close()
  }

  const purge = async (): Promise<void> => {
    const connection = await amqp.connect(URL)
    const channel = await connection.createChannel()
    await channel.purgeQueue(`${namespace}.bench-group`)
    await connection.close()
  }

  return {
    async publish(count) {
      const started = now()
      await publishAll(count)
      const rate = (count / (now() - started)) * 1000
      await purge()
      return rate
    },
    async consume(count) {
      await publishAll(count)
      // Timed from the first delivery to the last: connecting and declaring are not consuming.
      let handled = 0
      let started = 0
      const stop = await consumer(() => {
        if (handled === 0) started = now()
        handled += 1
      })
      await until(() => handled >= count, 120_000, 'Tidings consume')
      const rate = ((count - 1) / (now() - started)) * 1000
      await stop()
      return rate
    },
    async endToEnd(count) {
      let handled = 0
      const stop = await consumer(() => {
        handled += 1
      })
      const started = now()
      await publishAll(count)
      await until(() => handled >= count, 120_000, 'Tidings end-to-end')
      const rate = (count / (now() - started)) * 1000
      await stop()
      return rate
    },
    async latency(count) {
      const recorder = new LatencyRecorder(count)
      const stop = await consumer((data) => recorder.record(data.sentAt))
      await paced(1000, count, () => void publisher.publish(TYPE, { ...payload, sentAt: now() }))
      await recorder.done
      await stop()
      return recorder.percentiles()
    },
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
  }
}

// ---- run -------------------------------------------------------------------------------------------

export async function main(): Promise<void> {
  const raw = await rawSide()
  const tidings = await tidingsSide()
  try {
    const rows: BenchRow[] = []
    // Interleave raw and Tidings runs so drift on the machine affects both alike.
    const both = async (
      measure: (side: Side) => Promise<number>,
    ): Promise<{ raw: number; tidings: number }> => {
      const rawRuns: number[] = []
      const tidingsRuns: number[] = []
      for (let run = 0; run < RUNS; run += 1) {
        rawRuns.push(await measure(raw))
        tidingsRuns.push(await measure(tidings))
      }
      return { raw: median(rawRuns), tidings: median(tidingsRuns) }
    }
    const publish = await both((side) => side.publish(EVENTS))
    rows.push({
      measure: 'publish (confirms, 1,000 in flight)',
      ...publish,
      unit: 'msgs/s',
      higherIsBetter: true,
    })
    const consume = await both((side) => side.consume(EVENTS))
    rows.push({
      measure: `consume (prefetch ${PREFETCH}, manual ack)`,
      ...consume,
      unit: 'msgs/s',
      higherIsBetter: true,
    })
    const endToEnd = await both((side) => side.endToEnd(EVENTS))
    rows.push({
      measure: 'end-to-end publish → handle → ack',
      ...endToEnd,
      unit: 'msgs/s',
      higherIsBetter: true,
    })

    const latency = {
      raw: { p50: [] as number[], p99: [] as number[] },
      tidings: { p50: [] as number[], p99: [] as number[] },
    }
    for (let run = 0; run < RUNS; run += 1) {
      for (const [name, side] of [
        ['raw', raw],
        ['tidings', tidings],
      ] as const) {
        const { p50, p99 } = await side.latency(LATENCY_EVENTS)
        latency[name].p50.push(p50)
        latency[name].p99.push(p99)
      }
    }
    rows.push({
      measure: 'latency p50 at 1,000 events/s',
      raw: median(latency.raw.p50),
      tidings: median(latency.tidings.p50),
      unit: 'ms',
      higherIsBetter: false,
    })
    rows.push({
      measure: 'latency p99 at 1,000 events/s',
      raw: median(latency.raw.p99),
      tidings: median(latency.tidings.p99),
      unit: 'ms',
      higherIsBetter: false,
    })
    printTable(
      `RabbitMQ, classic durable queue, confirms, persistent, prefetch ${PREFETCH} (${EVENTS.toLocaleString('en-US')} events of 1 KiB, latency over ${LATENCY_EVENTS.toLocaleString('en-US')}; median of ${RUNS}, Node ${process.version})`,
      rows,
      'raw amqplib',
    )
  } finally {
    await raw.cleanup()
    await tidings.cleanup()
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]!
}
