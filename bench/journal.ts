/**
 * `npm run bench -- journal`: what the journal costs a bus. The same Redis Streams end-to-end run
 * (publish with N in flight → a listener with concurrency 100 → ack, 1 KiB events) with no journal
 * and with `createJournal({ store: postgresJournalStore(...) })` recording every event and step to
 * PostgreSQL, alternating, several runs each. The bar: within 10 % of the journal off.
 * At saturation the journal sheds the routine (`loadShedding`, on by default): the `shed` column
 * says how many records it left out, `dropped` how many did not fit its buffer.
 *
 * Each saturated run begins with BENCH_WARMUP_EVENTS (default 20,000) unmeasured events, journal off
 * and on alike: the first quarter second of an overload, before the journal has seen it, costs what
 * writing everything costs, and the measured part is the steady state. BENCH_WARMUP_EVENTS=0
 * measures them together. The Node CPU column is the benchmark process's CPU time per event.
 *
 * TIDINGS_REDIS_URL and TIDINGS_POSTGRES_URL choose the servers; BENCH_LOAD_SHEDDING=off measures
 * `loadShedding: false` (every record written, whatever it costs).
 */
import { randomUUID } from 'node:crypto'
import { type Bus, createBus, silentLogger } from '@tidings/core'
import { createJournal, type Journal, postgresJournalStore } from '@tidings/journal'
import { redisStreamsTransport } from '@tidings/transport-redis-streams'
import { Redis } from 'ioredis'
import pg from 'pg'
import { LatencyRecorder, makePayload, median, now, paced, slidingWindow, until } from './harness.js'

const REDIS_URL = process.env.TIDINGS_REDIS_URL ?? 'redis://127.0.0.1:6379'
const POSTGRES_URL = process.env.TIDINGS_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const EVENTS = Number(process.env.BENCH_EVENTS ?? 20_000)
const RUNS = Number(process.env.BENCH_RUNS ?? 5)
const WINDOWS = [10, 100] as const
const PACED_EVENTS = 3_000
const LOAD_SHEDDING = process.env.BENCH_LOAD_SHEDDING !== 'off'
const WARMUP_EVENTS = Number(process.env.BENCH_WARMUP_EVENTS ?? 20_000)

/** window = 0: 3,000 events paced at 1,000/s, and the publish → handler latency percentiles. */
async function endToEnd(
  window: number,
  withJournal: boolean,
): Promise<{
  rate: number
  cpuPerEvent: number
  p50?: number
  p99?: number
  journal?: { shed: number; dropped: number }
}> {
  const namespace = `benchjournal${randomUUID().slice(0, 8)}`
  const schema = `bench_journal_${randomUUID().slice(0, 8)}`
  const journal = withJournal
    ? createJournal({
        store: postgresJournalStore({ connectionString: POSTGRES_URL, schema }),
        logger: silentLogger,
        // The paced runs measure what writing every record costs: their pacing loop (setImmediate
        // until the next send is due) keeps the event loop busy, which would read as saturation.
        ...(LOAD_SHEDDING && window !== 0 ? {} : { loadShedding: false as const }),
      })
    : undefined
  const newBus = (service: string): Bus =>
    createBus({
      service,
      transport: redisStreamsTransport({ url: REDIS_URL, namespace }),
      logger: silentLogger,
      ...(journal ? { journal } : {}),
    })
  const consumer = newBus('consumer')
  let handled = 0
  const latency = new LatencyRecorder(PACED_EVENTS)
  consumer.listen(
    'bench.#',
    (event) => {
      handled += 1
      if (window === 0 && event.type === 'bench.order.paced')
        latency.record((event.data as { sentAt: number }).sentAt)
    },
    { name: 'group', concurrency: 100, retry: false },
  )
  await consumer.start()
  const publisher = newBus('publisher')
  await publisher.publish('bench.warm', {})
  await until(() => handled >= 1)
  handled = 0
  const payload = makePayload(1024)
  let rate = 0
  let cpuPerEvent = 0
  let percentiles: { p50: number; p99: number } | undefined
  let before: ReturnType<Journal['stats']> | undefined
  if (window === 0) {
    await paced(
      1000,
      PACED_EVENTS,
      () => void publisher.publish('bench.order.paced', { ...payload, sentAt: now() }),
    )
    await latency.done
    percentiles = latency.percentiles()
  } else {
    if (WARMUP_EVENTS > 0) {
      const warm = await slidingWindow(window, { count: WARMUP_EVENTS }, () =>
        publisher.publish('bench.order.placed', payload),
      )
      await until(() => handled >= warm)
      handled = 0
    }
    before = journal?.stats()
    const cpu = process.cpuUsage()
    const started = now()
    const published = await slidingWindow(window, { count: EVENTS }, () =>
      publisher.publish('bench.order.placed', payload),
    )
    await until(() => handled >= published)
    rate = (published / (now() - started)) * 1000
    const used = process.cpuUsage(cpu)
    cpuPerEvent = (used.user + used.system) / published
  }
  const after = journal?.stats()
  const stats = after && {
    shed: after.shed - (before?.shed ?? 0),
    dropped: after.dropped - (before?.dropped ?? 0),
  }
  await publisher.close()
  await consumer.close()
  const redis = new Redis(REDIS_URL)
  const keys = await redis.keys(`{${namespace}}:*`)
  if (keys.length > 0) await redis.del(...keys)
  redis.disconnect()
  if (withJournal) {
    const client = new pg.Client({ connectionString: POSTGRES_URL })
    await client
      .connect()
      .then(() => client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`))
      .catch(() => {}) // a store that is down (BENCH: the journal's own cost) has nothing to drop
    await client.end().catch(() => {})
  }
  return { rate, cpuPerEvent, ...(percentiles ?? {}), ...(stats ? { journal: stats } : {}) }
}

export async function main(): Promise<void> {
  const startedAt = Date.now()
  await endToEnd(100, true) // warm-up: JIT, connections, the first schema
  const rows: string[] = []
  for (const window of WINDOWS) {
    const off: number[] = []
    const on: number[] = []
    const ratios: number[] = []
    const cpuOff: number[] = []
    const cpuOn: number[] = []
    let dropped = 0
    let shed = 0
    for (let run = 0; run < RUNS; run += 1) {
      const first = run % 2 === 0
      const a = await endToEnd(window, !first)
      const b = await endToEnd(window, first)
      const withJournal = first ? b : a
      const without = first ? a : b
      off.push(without.rate)
      on.push(withJournal.rate)
      ratios.push(withJournal.rate / without.rate)
      cpuOff.push(without.cpuPerEvent)
      cpuOn.push(withJournal.cpuPerEvent)
      dropped += withJournal.journal?.dropped ?? 0
      shed += withJournal.journal?.shed ?? 0
    }
    const pct = (value: number) => `${Math.round(value * 100)} %`
    rows.push(
      `| end-to-end, ${window} in flight | ${Math.round(median(off)).toLocaleString('en-US')} | ${Math.round(median(on)).toLocaleString('en-US')} | ${pct(median(ratios))} (${pct(Math.min(...ratios))}–${pct(Math.max(...ratios))}) | ${median(cpuOff).toFixed(1)} → ${median(cpuOn).toFixed(1)} µs | ${shed.toLocaleString('en-US')} | ${dropped.toLocaleString('en-US')} |`,
    )
  }
  const p50: { off: number[]; on: number[] } = { off: [], on: [] }
  const p99: { off: number[]; on: number[] } = { off: [], on: [] }
  const pacedRecords = { shed: 0, dropped: 0 }
  for (let run = 0; run < Math.min(RUNS, 3); run += 1) {
    for (const withJournal of run % 2 === 0 ? [false, true] : [true, false]) {
      const measured = await endToEnd(0, withJournal)
      p50[withJournal ? 'on' : 'off'].push(measured.p50!)
      p99[withJournal ? 'on' : 'off'].push(measured.p99!)
      pacedRecords.shed += measured.journal?.shed ?? 0
      pacedRecords.dropped += measured.journal?.dropped ?? 0
    }
  }
  const ms = (values: number[]) => `${median(values).toFixed(2)} ms`
  rows.push(
    `| latency p50 at 1,000 events/s, every record written | ${ms(p50.off)} | ${ms(p50.on)} | ${(median(p50.on) - median(p50.off)).toFixed(2)} ms | – | ${pacedRecords.shed} | ${pacedRecords.dropped} |`,
  )
  rows.push(
    `| latency p99 at 1,000 events/s, every record written | ${ms(p99.off)} | ${ms(p99.on)} | ${(median(p99.on) - median(p99.off)).toFixed(2)} ms | – | – | – |`,
  )
  console.log(
    `\n### The journal's cost: Redis Streams end-to-end, journal off vs on (PostgreSQL${LOAD_SHEDDING ? '' : ', loadShedding: false'}) (${EVENTS.toLocaleString('en-US')} events of 1 KiB per run after ${WARMUP_EVENTS.toLocaleString('en-US')} unmeasured, median of ${RUNS} runs; ${Math.round((Date.now() - startedAt) / 1000)} s)\n`,
  )
  console.log(
    '| measure | journal off msgs/s | journal on msgs/s | on / off (range) | Node CPU per event, off → on | records shed | records dropped |',
  )
  console.log('|---|---:|---:|---:|---:|---:|---:|')
  for (const row of rows) console.log(row)
}
