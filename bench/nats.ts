/**
 * `npm run bench -- nats`: NATS JetStream through Tidings (createBus + natsTransport) and through raw
 * nats.js v3, in the same run, with the same durability on both sides: one file-storage stream with
 * interest retention and a 2-minute duplicate window, each publish awaiting its PubAck with the event
 * id as msgID, one durable pull consumer with explicit acks (raw: consume() buffering 100; Tidings: concurrency 100
 * with its default read-ahead),
 * 1 KiB CloudEvents JSON events. A last table shows what a coarse server filter costs: a listener
 * whose patterns NATS 2.9 cannot hold in one filter receives the foreign events too, and core acks them.
 *
 * Set TIDINGS_NATS_URL to use another server (default nats://127.0.0.1:4222).
 */
import { randomUUID } from 'node:crypto'
import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
} from '@nats-io/jetstream'
import { connect, nanos } from '@nats-io/transport-node'
import { type Bus, createBus, silentLogger } from '@tidings/core'
import { natsTransport } from '@tidings/transport-nats'
import {
  type BenchSide,
  benchSide,
  compareWithRaw,
  makePayload,
  median,
  now,
  rawCloudEvent,
  tidingsConsumer,
  until,
} from './harness.js'

const URL = process.env.TIDINGS_NATS_URL ?? 'nats://127.0.0.1:4222'
const SERVER = new globalThis.URL(URL).host
const MAX_EVENTS = Number(process.env.BENCH_EVENTS ?? 50_000)
const CONSUME_EVENTS = Number(process.env.BENCH_CONSUME_EVENTS ?? 20_000)
const LATENCY_EVENTS = Number(process.env.BENCH_LATENCY_EVENTS ?? 5_000)
const RUNS = Number(process.env.BENCH_RUNS ?? 5)
const IN_PROCESS = 100
const TYPE = 'bench.order.placed'

type Payload = ReturnType<typeof makePayload>

// ---- raw nats.js ---------------------------------------------------------------------------------

async function rawSide(): Promise<BenchSide> {
  const namespace = `benchraw${randomUUID().slice(0, 8)}`
  const stream = `${namespace}-events`
  const subject = `${namespace}.events.${TYPE}`
  // Like Tidings (a publishing bus and a consuming bus): one connection each, with nats.js' async
  // stack traces off as Tidings sets them (on, they cost a third of the publish rate).
  const publishing = await connect({ servers: SERVER, noAsyncTraces: true })
  const consuming = await connect({ servers: SERVER, noAsyncTraces: true })
  const jsm = await jetstreamManager(publishing)
  await jsm.streams.add({
    name: stream,
    subjects: [`${namespace}.events.>`],
    retention: RetentionPolicy.Interest,
    storage: StorageType.File,
    duplicate_window: nanos(120_000),
  })
  await jsm.consumers.add(stream, {
    durable_name: 'group',
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.New,
    filter_subject: `${namespace}.events.>`,
    max_ack_pending: 10_000,
  })
  const js = jetstream(publishing)
  const payload = makePayload(1024)

  /** A CloudEvents envelope built with JSON.stringify, published with its id as msgID, as Tidings does. */
  const publish = (data: Payload) => {
    const { id, body } = rawCloudEvent(TYPE, data)
    return js.publish(subject, body, { msgID: id })
  }

  /** consume() with 100 messages buffered, an ack each: nats.js' own recommended loop. */
  const consumer = async (onMessage: (data: Payload) => void): Promise<() => Promise<void>> => {
    const pull = await jetstream(consuming).consumers.get(stream, 'group')
    const messages = await pull.consume({ max_messages: IN_PROCESS })
    const loop = (async () => {
      for await (const message of messages) {
        onMessage((JSON.parse(message.string()) as { data: Payload }).data)
        message.ack()
      }
    })()
    return async () => {
      await messages.close()
      await loop
    }
  }

  return benchSide('raw', {
    publishOne: () => publish(payload),
    async afterPublish() {
      await jsm.streams.purge(stream)
    },
    consumer,
    publishStamped: (sentAt) => void publish({ ...payload, sentAt }),
    async cleanup() {
      await jsm.streams.delete(stream)
      await publishing.close()
      await consuming.close()
    },
  })
}

// ---- Tidings -------------------------------------------------------------------------------------

async function tidingsSide(): Promise<BenchSide> {
  const namespace = `benchtd${randomUUID().slice(0, 8)}`
  const newBus = (): Bus =>
    createBus({ service: 'bench', transport: natsTransport({ url: URL, namespace }), logger: silentLogger })
  // concurrency 100 with the default read-ahead, as in the AMQP and Redis benches.
  const listenOptions = { name: 'group', concurrency: IN_PROCESS, retry: false as const }
  const publisher = newBus()
  const creator = newBus()
  creator.listen('bench.#', () => {}, listenOptions)
  await creator.start()
  await creator.close()
  const payload = makePayload(1024)
  const admin = await connect({ servers: SERVER })
  const jsm = await jetstreamManager(admin)

  return benchSide('Tidings', {
    publishOne: () => publisher.publish(TYPE, payload),
    async afterPublish() {
      await jsm.streams.purge(`${namespace}-events`)
    },
    consumer: tidingsConsumer<Payload>(newBus, listenOptions),
    publishStamped: (sentAt) => void publisher.publish(TYPE, { ...payload, sentAt }),
    async cleanup() {
      await publisher.close()
      await jsm.streams.delete(`${namespace}-events`)
      await jsm.streams.delete(`${namespace}-dead-letters`)
      await admin.close()
    },
  })
}

// ---- the cost of a coarse server filter ------------------------------------------------------------

/**
 * Drains a backlog of `count` matching events mixed with as many foreign ones, once with a pattern
 * NATS filters exactly and once with two patterns that 2.9 cannot hold in one filter (so every event
 * reaches the process and core acks the foreign ones). Rate counts matching events only.
 */
async function coarseFilterCost(count: number, runs: number): Promise<void> {
  const rates = { exact: [] as number[], coarse: [] as number[] }
  for (let run = 0; run < runs; run += 1) {
    for (const kind of ['exact', 'coarse'] as const) {
      const namespace = `benchfl${randomUUID().slice(0, 8)}`
      const newBus = (): Bus =>
        createBus({
          service: 'bench',
          transport: natsTransport({ url: URL, namespace }),
          logger: silentLogger,
        })
      const patterns = kind === 'exact' ? [TYPE] : [TYPE, 'bench.order.cancelled']
      const listenOptions = { name: 'group', concurrency: IN_PROCESS, retry: false as const }
      const creator = newBus()
      creator.listen(patterns, () => {}, listenOptions)
      await creator.start()
      await creator.close()
      const publisher = newBus()
      const payload = makePayload(1024)
      const pending: Promise<unknown>[] = []
      for (let i = 0; i < count; i += 1) {
        pending.push(publisher.publish(TYPE, payload), publisher.publish('inventory.counted', payload))
        if (pending.length >= 1000) await Promise.all(pending.splice(0))
      }
      await Promise.all(pending)
      let handled = 0
      let started = 0
      const consumer = newBus()
      consumer.listen(
        patterns,
        () => {
          if (handled === 0) started = now()
          handled += 1
        },
        listenOptions,
      )
      await consumer.start()
      await until(() => handled >= count, 120_000, `${kind} filter drain`)
      rates[kind].push(((count - 1) / (now() - started)) * 1000)
      await consumer.close()
      await publisher.close()
      const admin = await connect({ servers: SERVER })
      const jsm = await jetstreamManager(admin)
      await jsm.streams.delete(`${namespace}-events`)
      await jsm.streams.delete(`${namespace}-dead-letters`)
      await admin.close()
    }
  }
  const exact = median(rates.exact)
  const coarse = median(rates.coarse)
  console.log(
    `\nNATS server filter cost: ${count} matching events drained from a backlog holding as many foreign ones (median of ${runs})`,
  )
  console.log('| listener patterns | server filter | matching events/s | vs exact |')
  console.log('|---|---|---:|---:|')
  console.log(
    `| "${TYPE}" | exact (<ns>.events.${TYPE}) | ${Math.round(exact).toLocaleString('en')} | 100 % |`,
  )
  console.log(
    `| "${TYPE}", "bench.order.cancelled" | coarse on 2.9 (<ns>.events.>) | ${Math.round(coarse).toLocaleString('en')} | ${Math.round((coarse / exact) * 100)} % |`,
  )
}

// ---- run -----------------------------------------------------------------------------------------

export async function main(): Promise<void> {
  await compareWithRaw(
    {
      title: `NATS JetStream, one stream and durable pull consumer (raw: consume() buffering ${IN_PROCESS}; Tidings: concurrency ${IN_PROCESS})`,
      rawName: 'raw nats.js',
      publishLabel: 'publish (PubAck awaited)',
      consumeLabel: 'consume (pull, ack each)',
      maxEvents: MAX_EVENTS,
      consumeEvents: CONSUME_EVENTS,
      latencyEvents: LATENCY_EVENTS,
      runs: RUNS,
    },
    rawSide,
    tidingsSide,
  )
  await coarseFilterCost(Number(process.env.BENCH_FILTER_EVENTS ?? 10_000), Math.max(1, Math.min(RUNS, 3)))
}
