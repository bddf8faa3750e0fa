/**
 * `npm run bench -- redis`: Redis Streams through Tidings (createBus + redisStreamsTransport) and
 * through raw ioredis, in the same run, doing the same work: one stream, one consumer group,
 * 1 KiB CloudEvents JSON events, XADD replies awaited, XREADGROUP with COUNT 100 and an XACK per
 * read batch (raw) or per event (Tidings, batched per event-loop turn by the transport).
 *
 * Set TIDINGS_REDIS_URL to use another server (default redis://127.0.0.1:6379).
 */
import { randomUUID } from 'node:crypto'
import { type Bus, createBus, silentLogger } from '@tidings/core'
import { redisStreamsTransport } from '@tidings/transport-redis-streams'
import { Redis } from 'ioredis'
import { type BenchRow, LatencyRecorder, makePayload, now, paced, printTable, until } from './harness.js'

const URL = process.env.TIDINGS_REDIS_URL ?? 'redis://127.0.0.1:6379'
const EVENTS = Number(process.env.BENCH_EVENTS ?? 50_000)
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

async function deleteKeys(client: Redis, match: string): Promise<void> {
  let cursor = '0'
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', match, 'COUNT', 1000)
    cursor = next
    if (keys.length > 0) await client.del(...keys)
  } while (cursor !== '0')
}

// ---- raw ioredis ---------------------------------------------------------------------------------

async function rawSide(): Promise<Side> {
  const namespace = `benchraw${randomUUID().slice(0, 8)}`
  const stream = `{${namespace}}:events`
  const group = 'bench-group'
  const client = new Redis(URL)
  await client.call('XGROUP', 'CREATE', stream, group, '$', 'MKSTREAM')
  const payload = makePayload(1024)

  /** What a raw user would send: a CloudEvents envelope built with JSON.stringify. */
  const envelope = (data: Payload): string =>
    JSON.stringify({
      specversion: '1.0',
      id: randomUUID(),
      type: TYPE,
      source: '/bench',
      time: new Date().toISOString(),
      datacontenttype: 'application/json',
      data,
    })

  const publishAll = async (count: number): Promise<void> => {
    for (let sent = 0; sent < count; sent += BATCH) {
      const pipeline = client.pipeline()
      for (let i = 0; i < Math.min(BATCH, count - sent); i += 1) {
        pipeline.xadd(stream, '*', 'type', TYPE, 'body', envelope(payload))
      }
      await pipeline.exec()
    }
  }

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
            const data = (JSON.parse(fields[3]!) as { data: Payload }).data
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

  return {
    async publish(count) {
      const started = now()
      await publishAll(count)
      const rate = (count / (now() - started)) * 1000
      await client.xtrim(stream, 'MAXLEN', 0)
      return rate
    },
    async consume(count) {
      await publishAll(count)
      let handled = 0
      let started = 0
      const stop = await consumer(() => {
        if (handled === 0) started = now()
        handled += 1
      })
      await until(() => handled >= count, 120_000, 'raw consume')
      const rate = ((count - 1) / (now() - started)) * 1000
      await stop()
      await client.xtrim(stream, 'MAXLEN', 0)
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
      await client.xtrim(stream, 'MAXLEN', 0)
      return rate
    },
    async latency(count) {
      const recorder = new LatencyRecorder(count)
      const stop = await consumer((data) => recorder.record(data.sentAt))
      await paced(
        1000,
        count,
        () => void client.xadd(stream, '*', 'type', TYPE, 'body', envelope({ ...payload, sentAt: now() })),
      )
      await recorder.done
      await stop()
      await client.xtrim(stream, 'MAXLEN', 0)
      return recorder.percentiles()
    },
    async cleanup() {
      await deleteKeys(client, `{${namespace}}:*`)
      client.disconnect()
    },
  }
}

// ---- Tidings -------------------------------------------------------------------------------------

async function tidingsSide(): Promise<Side> {
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

  return {
    async publish(count) {
      const started = now()
      await publishAll(count)
      const rate = (count / (now() - started)) * 1000
      await admin.xtrim(stream, 'MAXLEN', 0)
      return rate
    },
    async consume(count) {
      await publishAll(count)
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
      await deleteKeys(admin, `{${namespace}}:*`)
      admin.disconnect()
    },
  }
}

// ---- run -----------------------------------------------------------------------------------------

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
      measure: 'publish (XADD, 1,000 in flight)',
      ...publish,
      unit: 'msgs/s',
      higherIsBetter: true,
    })
    const consume = await both((side) => side.consume(EVENTS))
    rows.push({
      measure: `consume (XREADGROUP COUNT ${PREFETCH} + XACK)`,
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
      `Redis Streams, one stream and group, concurrency/COUNT ${PREFETCH} (${EVENTS.toLocaleString('en-US')} events of 1 KiB, latency over ${LATENCY_EVENTS.toLocaleString('en-US')}; median of ${RUNS}, Node ${process.version})`,
      rows,
      'raw ioredis',
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
