/**
 * `npm run bench -- redis`: Redis Streams through Tidings (createBus + redisStreamsTransport) and
 * through raw ioredis, in the same run, doing the same work: one stream, one consumer group,
 * 1 KiB CloudEvents JSON events with the same entry fields (`type`, `id`, `body`), each XADD reply
 * awaited (1, 10, 100 or 1,000 in flight), XREADGROUP with COUNT 100 and an XACK per read batch
 * (raw) or per event (Tidings, batched per tick by the transport).
 *
 * Set TIDINGS_REDIS_URL to use another server (default redis://127.0.0.1:6379).
 */
import { randomUUID } from 'node:crypto'
import { type Bus, createBus, silentLogger } from '@tidings/core'
import { redisStreamsTransport } from '@tidings/transport-redis-streams'
import { Redis } from 'ioredis'
import {
  type BenchSide,
  benchSide,
  compareWithRaw,
  makePayload,
  rawCloudEvent,
  tidingsConsumer,
} from './harness.js'

const URL = process.env.TIDINGS_REDIS_URL ?? 'redis://127.0.0.1:6379'
const MAX_EVENTS = Number(process.env.BENCH_EVENTS ?? 100_000)
const CONSUME_EVENTS = Number(process.env.BENCH_CONSUME_EVENTS ?? 50_000)
const LATENCY_EVENTS = Number(process.env.BENCH_LATENCY_EVENTS ?? 5_000)
const RUNS = Number(process.env.BENCH_RUNS ?? 5)
const PREFETCH = 100
const TYPE = 'bench.order.placed'

type Payload = ReturnType<typeof makePayload>

async function deleteKeys(client: Redis, match: string): Promise<void> {
  let cursor = '0'
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', match, 'COUNT', 1000)
    cursor = next
    if (keys.length > 0) await client.del(...keys)
  } while (cursor !== '0')
}

// ---- raw ioredis ---------------------------------------------------------------------------------

async function rawSide(): Promise<BenchSide> {
  const namespace = `benchraw${randomUUID().slice(0, 8)}`
  const stream = `{${namespace}}:events`
  const group = 'bench-group'
  // ioredis' defaults: no auto-pipelining, so each XADD is written to the socket as it is called;
  // concurrent XADDs share the connection (ioredis matches replies in order), as a user's code would.
  const client = new Redis(URL)
  await client.call('XGROUP', 'CREATE', stream, group, '$', 'MKSTREAM')
  const payload = makePayload(1024)

  /**
   * What a raw user would send: a CloudEvents envelope built with JSON.stringify, and the same entry
   * fields as Tidings (`type` and `id` beside the body, so consumers can filter and deduplicate
   * without parsing), as the AMQP bench's raw side sends the same message properties.
   */
  const entry = (data: Payload): [string, ...string[]] => {
    const { id, body } = rawCloudEvent(TYPE, data)
    return [stream, '*', 'type', TYPE, 'id', id, 'body', body]
  }

  /** One awaited XADD per event: what a competent user writes to publish one event. */
  const publishOne = () => client.xadd(...entry(payload))

  /** XREADGROUP COUNT 100 on its own blocking connection, one XACK per batch. */
  const consumer = async (onMessage: (data: Payload) => void): Promise<() => Promise<void>> => {
    const reader = client.duplicate()
    let running = true
    const loop = (async () => {
      while (running) {
        const reply = (await reader
          .call(
            'XREADGROUP',
            'GROUP',
            group,
            'raw-1',
            'COUNT',
            PREFETCH,
            'BLOCK',
            200,
            'STREAMS',
            stream,
            '>',
          )
          .catch(() => null)) as [string, [string, string[]][]][] | null
        if (!reply) continue
        const ids: string[] = []
        for (const [, entries] of reply) {
          for (const [id, fields] of entries) {
            const data = (JSON.parse(fields[5]!) as { data: Payload }).data
            onMessage(data)
            ids.push(id)
          }
        }
        void client.xack(stream, group, ...ids)
      }
    })()
    return async () => {
      running = false
      await loop
      reader.disconnect()
    }
  }

  const trim = async (): Promise<void> => {
    await client.xtrim(stream, 'MAXLEN', 0)
  }
  return benchSide('raw', {
    publishOne,
    afterPublish: trim,
    afterRun: trim,
    consumer,
    publishStamped: (sentAt) => void client.xadd(...entry({ ...payload, sentAt })),
    async cleanup() {
      await deleteKeys(client, `{${namespace}}:*`)
      client.disconnect()
    },
  })
}

// ---- Tidings -------------------------------------------------------------------------------------

async function tidingsSide(): Promise<BenchSide> {
  const namespace = `benchtd${randomUUID().slice(0, 8)}`
  const newBus = (): Bus =>
    createBus({
      service: 'bench',
      transport: redisStreamsTransport({ url: URL, namespace }),
      logger: silentLogger,
    })
  const listenOptions = { name: 'group', concurrency: PREFETCH, retry: false as const }
  const publisher = newBus()
  // Create the durable group once (as a first start() does), so publishes are kept for it.
  const creator = newBus()
  creator.listen('bench.#', () => {}, listenOptions)
  await creator.start()
  await creator.close()
  const admin = new Redis(URL)
  const stream = `{${namespace}}:events`
  const payload = makePayload(1024)

  const publishOne = () => publisher.publish(TYPE, payload)

  const consumer = tidingsConsumer<Payload>(newBus, listenOptions)

  return benchSide('Tidings', {
    publishOne,
    async afterPublish() {
      await admin.xtrim(stream, 'MAXLEN', 0)
    },
    consumer,
    publishStamped: (sentAt) => void publisher.publish(TYPE, { ...payload, sentAt }),
    async cleanup() {
      await publisher.close()
      await deleteKeys(admin, `{${namespace}}:*`)
      admin.disconnect()
    },
  })
}

// ---- run -----------------------------------------------------------------------------------------

export async function main(): Promise<void> {
  await compareWithRaw(
    {
      title: `Redis Streams, one stream and group, concurrency/COUNT ${PREFETCH}`,
      rawName: 'raw ioredis',
      publishLabel: 'publish (XADD reply awaited)',
      consumeLabel: `consume (XREADGROUP COUNT ${PREFETCH} + XACK)`,
      maxEvents: MAX_EVENTS,
      consumeEvents: CONSUME_EVENTS,
      latencyEvents: LATENCY_EVENTS,
      runs: RUNS,
    },
    rawSide,
    tidingsSide,
  )
}
