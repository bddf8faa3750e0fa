import { randomUUID } from 'node:crypto'
/**
 * Shared benchmark plumbing: every transport bench measures Tidings and the raw driver in the same
 * run with the same helpers (one sliding-window publisher, one table), then prints one table with the
 * ratio. A new transport's bench (NATS, SQS) provides a raw side and a Tidings side as `SideParts`
 * and calls `compareWithRaw`; nothing here knows a broker.
 */
import { performance } from 'node:perf_hooks'
import type { Bus, ListenOptions } from '@tidings/core'

/** A JSON payload of about `bytes` bytes (1 KiB by default), as in SPEC §10. */
export function makePayload(bytes = 1024): { orderId: string; sentAt: number; filler: string } {
  const base = { orderId: 'order-000000', sentAt: 0, filler: '' }
  const overhead = JSON.stringify(base).length
  return { ...base, filler: 'x'.repeat(Math.max(0, bytes - overhead - 16)) }
}

/** Milliseconds since an arbitrary origin, sub-millisecond precision. */
export const now = (): number => performance.now()

/**
 * What a raw-driver user publishes: a CloudEvents 1.0 envelope built with JSON.stringify and a random
 * UUID, the same fields Tidings writes. Every raw bench side sends this.
 */
export function rawCloudEvent(type: string, data: unknown): { readonly id: string; readonly body: string } {
  const id = randomUUID()
  const body = JSON.stringify({
    specversion: '1.0',
    id,
    type,
    source: '/bench',
    time: new Date().toISOString(),
    datacontenttype: 'application/json',
    data,
  })
  return { id, body }
}

/**
 * The in-flight windows every broker bench measures. 1: a request handler that publishes one event
 * and awaits it. 10: a handler or job publishing a few events at once, or a few concurrent requests.
 * 100: a busy service (many concurrent requests each awaiting a publish). 1,000: a bulk import or
 * relay pushing as fast as the broker accepts.
 */
export const WINDOWS = [1, 10, 100, 1000] as const

/** How long one throughput measurement runs at most (BENCH_MS, default 1,000 ms). */
export const MEASURE_MS = Number(process.env.BENCH_MS ?? 1000)

/**
 * Starts operations with at most `window` unresolved at a time: a new one starts when one resolves
 * (a sliding window, as `window` concurrent callers that each await their publish would make).
 * Stops starting new ones after `limit.count` operations or once `limit.ms` have passed, and
 * resolves with how many were started (all of which have resolved by then); rejects on the first
 * failure.
 */
export function slidingWindow(
  window: number,
  limit: { readonly count: number; readonly ms?: number },
  start: (index: number) => Promise<unknown>,
): Promise<number> {
  const deadline = limit.ms === undefined ? Number.POSITIVE_INFINITY : now() + limit.ms
  return new Promise((resolve, reject) => {
    let started = 0
    let settled = 0
    let failed = false
    const launch = (): void => {
      const index = started
      started += 1
      start(index).then(next, fail)
    }
    const next = (): void => {
      settled += 1
      if (failed) return
      if (started < limit.count && now() < deadline) launch()
      else if (settled === started) resolve(started)
    }
    const fail = (error: unknown): void => {
      if (!failed) reject(error)
      failed = true
    }
    if (limit.count <= 0) return resolve(0)
    for (let i = 0; i < Math.min(window, limit.count); i += 1) launch()
  })
}

/** Runs `measure` `runs` times and returns the median (SPEC §10 reports the median of 3). */
export async function medianOf(runs: number, measure: () => Promise<number>): Promise<number> {
  const values: number[] = []
  for (let i = 0; i < runs; i += 1) values.push(await measure())
  return median(values)
}

/**
 * Calls `send(i)` `count` times at a steady `ratePerSecond`, not waiting for each send to finish.
 * Between sends it yields to the event loop (setImmediate), so a consumer in the same process runs
 * while the publisher waits; timers alone are too coarse for a 1 ms interval.
 */
export async function paced(
  ratePerSecond: number,
  count: number,
  send: (index: number) => unknown,
): Promise<void> {
  const intervalMs = 1000 / ratePerSecond
  const started = now()
  for (let i = 0; i < count; i += 1) {
    const due = started + i * intervalMs
    if (due - now() > 4) await new Promise((resolve) => setTimeout(resolve, due - now() - 2))
    while (now() < due) await new Promise((resolve) => setImmediate(resolve))
    send(i)
  }
}

/** Collects end-to-end latencies (consumer receive time minus the `sentAt` the publisher stamped). */
export class LatencyRecorder {
  private readonly samples: number[] = []
  private resolveDone: (() => void) | undefined
  readonly done: Promise<void>

  constructor(private readonly expected: number) {
    this.done = new Promise((resolve) => {
      this.resolveDone = resolve
    })
  }

  record(sentAt: number): void {
    this.samples.push(now() - sentAt)
    if (this.samples.length >= this.expected) this.resolveDone?.()
  }

  percentiles(): { p50: number; p99: number } {
    const sorted = [...this.samples].sort((a, b) => a - b)
    const at = (p: number): number =>
      sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN
    return { p50: at(50), p99: at(99) }
  }
}

/** Resolves once `check()` is true, polling cheaply; rejects after `timeoutMs`. */
export async function until(check: () => boolean, timeoutMs = 120_000, what = 'condition'): Promise<void> {
  const started = now()
  while (!check()) {
    if (now() - started > timeoutMs) throw new Error(`bench: timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]!
}

// ---- sides ---------------------------------------------------------------------------------------

/** One way of moving events through a broker: the raw driver, or Tidings. Rates in msgs/s, latency in ms. */
export interface BenchSide {
  /** Publishes with `window` in flight until `limit` is reached; msgs/s accepted by the broker. */
  publish(window: number, limit: Limit): Promise<number>
  /** Drains a backlog of `count` events already on the broker; msgs/s handled. */
  consume(count: number): Promise<number>
  /** Publishes with `window` in flight while consuming; msgs/s from the first publish to the last ack. */
  endToEnd(window: number, limit: Limit): Promise<number>
  /** Publishes `count` events paced at 1,000/s while consuming; end-to-end latency percentiles. */
  latency(count: number): Promise<{ p50: number; p99: number }>
  cleanup(): Promise<void>
}

export interface Limit {
  readonly count: number
  readonly ms?: number
}

/** What a benchmark side is made of; `benchSide` turns it into the measured workloads. */
export interface SideParts<Data extends { sentAt: number }> {
  /** Publish one event and resolve once the broker accepted it (a confirm, an XADD reply). */
  publishOne(): Promise<unknown>
  /**
   * For a publisher that does not wait for the broker (no confirms): resolve once the broker holds
   * everything published so far, so a publish run is timed to the broker, not to a client buffer.
   */
  settle?(): Promise<void>
  /** Remove what a publish-only run left on the broker. */
  afterPublish(): Promise<void>
  /** Optional tidying after each consuming run (e.g. trimming a stream the raw side never trims). */
  afterRun?(): Promise<void>
  /** Start consuming, calling `onEvent` with each event's data; resolves to a stop function. */
  consumer(onEvent: (data: Data) => void): Promise<() => Promise<void>>
  /** Publish one event stamped with `sentAt` without waiting (latency runs). */
  publishStamped(sentAt: number): void
  cleanup(): Promise<void>
}

/** The same workloads for the raw driver and for Tidings, so they differ only in their parts. */
export function benchSide<Data extends { sentAt: number }>(name: string, parts: SideParts<Data>): BenchSide {
  return {
    async publish(window, limit) {
      const started = now()
      const published = await slidingWindow(window, limit, () => parts.publishOne())
      await parts.settle?.()
      const rate = (published / (now() - started)) * 1000
      await parts.afterPublish()
      return rate
    },
    async consume(count) {
      await slidingWindow(1000, { count }, () => parts.publishOne())
      await parts.settle?.()
      // Timed from the first delivery to the last: connecting and declaring are not consuming.
      let handled = 0
      let started = 0
      const stop = await parts.consumer(() => {
        if (handled === 0) started = now()
        handled += 1
      })
      await until(() => handled >= count, 120_000, `${name} consume`)
      const rate = ((count - 1) / (now() - started)) * 1000
      await stop()
      await parts.afterRun?.()
      return rate
    },
    async endToEnd(window, limit) {
      let handled = 0
      const stop = await parts.consumer(() => {
        handled += 1
      })
      const started = now()
      const published = await slidingWindow(window, limit, () => parts.publishOne())
      await until(() => handled >= published, 120_000, `${name} end-to-end`)
      const rate = (published / (now() - started)) * 1000
      await stop()
      await parts.afterRun?.()
      return rate
    },
    async latency(count) {
      const recorder = new LatencyRecorder(count)
      const stop = await parts.consumer((data) => recorder.record(data.sentAt))
      await paced(1000, count, () => parts.publishStamped(now()))
      await recorder.done
      await stop()
      await parts.afterRun?.()
      return recorder.percentiles()
    },
    cleanup: () => parts.cleanup(),
  }
}

/** The Tidings half of a broker bench: a fresh listening bus per consuming run, closed by stop(). */
export function tidingsConsumer<Data>(
  newBus: () => Bus,
  listenOptions: ListenOptions,
): (onEvent: (data: Data) => void) => Promise<() => Promise<void>> {
  return async (onEvent) => {
    const bus = newBus()
    bus.listen('bench.#', (event) => onEvent(event.data as Data), listenOptions)
    await bus.start()
    return () => bus.close()
  }
}

// ---- comparison and table ------------------------------------------------------------------------

export interface Comparison {
  readonly title: string
  readonly rawName: string
  /** e.g. 'publish (confirms)': the window is added per row. */
  readonly publishLabel: string
  readonly consumeLabel: string
  /** At most this many events per throughput measurement (each also stops after MEASURE_MS). */
  readonly maxEvents: number
  /** The backlog the consume row drains (0: no consume row). */
  readonly consumeEvents: number
  readonly latencyEvents: number
  readonly runs: number
  /** Latency runs per side (default 3; each is latencyEvents / 1,000 seconds long). */
  readonly latencyRuns?: number
}

/** One measured row: every run's value per side, so the table can show the spread of the ratio. */
export interface BenchRow {
  readonly measure: string
  readonly window: string
  readonly tidings: readonly number[]
  readonly raw: readonly number[]
  readonly unit: string
  /** true for throughput (bigger is better), false for latency. */
  readonly higherIsBetter: boolean
}

/**
 * Measures both sides with the same workloads, interleaving raw and Tidings (and swapping which goes
 * first every run) so drift on the machine affects both alike, and prints one table: the medians,
 * and Tidings / raw as the median of the per-run ratios with their range.
 */
export async function compareWithRaw(
  comparison: Comparison,
  makeRaw: () => Promise<BenchSide>,
  makeTidings: () => Promise<BenchSide>,
): Promise<void> {
  const raw = await makeRaw()
  const tidings = await makeTidings()
  const started = now()
  try {
    const { runs, maxEvents } = comparison
    const limit: Limit = { count: maxEvents, ms: MEASURE_MS }
    const rows = new Map<string, { raw: number[]; tidings: number[] }>()
    const record = (key: string, side: 'raw' | 'tidings', value: number): void => {
      const row = rows.get(key) ?? { raw: [], tidings: [] }
      row[side].push(value)
      rows.set(key, row)
    }
    const both = async (run: number, key: string, measure: (side: BenchSide) => Promise<number>) => {
      const order = run % 2 === 0 ? (['raw', 'tidings'] as const) : (['tidings', 'raw'] as const)
      for (const name of order) record(key, name, await measure(name === 'raw' ? raw : tidings))
    }
    // Warm both sides up (JIT, connections, the broker's structures); these runs are not counted.
    for (const side of [raw, tidings]) {
      await side.publish(100, { count: maxEvents, ms: 300 })
      await side.endToEnd(100, { count: maxEvents, ms: 300 })
    }
    for (let run = 0; run < runs; run += 1) {
      for (const window of WINDOWS) {
        await both(run, `publish ${window}`, (side) => side.publish(window, limit))
        await both(run, `end-to-end ${window}`, (side) => side.endToEnd(window, limit))
      }
      if (comparison.consumeEvents > 0)
        await both(run, 'consume', (side) => side.consume(comparison.consumeEvents))
    }
    const latencyRuns = comparison.latencyRuns ?? 3
    for (let run = 0; run < latencyRuns; run += 1) {
      const order = run % 2 === 0 ? (['raw', 'tidings'] as const) : (['tidings', 'raw'] as const)
      for (const name of order) {
        const { p50, p99 } = await (name === 'raw' ? raw : tidings).latency(comparison.latencyEvents)
        record('p50', name, p50)
        record('p99', name, p99)
      }
    }
    const table: BenchRow[] = []
    const throughput = (measure: string, window: string, key: string): void => {
      table.push({ measure, window, ...rows.get(key)!, unit: 'msgs/s', higherIsBetter: true })
    }
    for (const window of WINDOWS) throughput(comparison.publishLabel, fmt(window), `publish ${window}`)
    for (const window of WINDOWS)
      throughput('end-to-end publish → handle → ack', fmt(window), `end-to-end ${window}`)
    if (comparison.consumeEvents > 0) throughput(comparison.consumeLabel, 'backlog', 'consume')
    for (const percentile of ['p50', 'p99'] as const) {
      table.push({
        measure: `latency ${percentile} at 1,000 events/s`,
        window: 'paced',
        ...rows.get(percentile)!,
        unit: 'ms',
        higherIsBetter: false,
      })
    }
    printTable(
      `${comparison.title} (1 KiB events; each throughput run ${MEASURE_MS.toLocaleString('en-US')} ms or ${fmt(maxEvents)} events${comparison.consumeEvents > 0 ? `, consume ${fmt(comparison.consumeEvents)}` : ''}, median of ${runs} runs; latency over ${fmt(comparison.latencyEvents)} events, median of ${latencyRuns} runs; Node ${process.version}; ${((now() - started) / 1000).toFixed(0)} s)`,
      table,
      comparison.rawName,
    )
  } finally {
    await raw.cleanup()
    await tidings.cleanup()
  }
}

function fmt(value: number): string {
  return Math.round(value).toLocaleString('en-US')
}

/** Prints a Markdown table (so it can be pasted into docs/benchmarks.md as is). */
export function printTable(title: string, rows: readonly BenchRow[], rawName = 'raw driver'): void {
  const format = (value: number, unit: string): string => (unit === 'ms' ? value.toFixed(2) : fmt(value))
  const percent = (value: number): string => `${(value * 100).toFixed(0)} %`
  const lines = [
    `### ${title}`,
    '',
    `| measure | in flight | Tidings | ${rawName} | Tidings / raw (range over runs) | unit |`,
    '|---|---:|---:|---:|---:|---|',
    ...rows.map((row) => {
      const ratios = row.raw.map((raw, i) =>
        row.higherIsBetter ? row.tidings[i]! / raw : raw / row.tidings[i]!,
      )
      const tidings = median(row.tidings)
      const raw = median(row.raw)
      const delta = row.higherIsBetter
        ? ''
        : `, ${tidings - raw >= 0 ? '+' : ''}${(tidings - raw).toFixed(2)} ms`
      const spread =
        ratios.length > 1 ? ` (${percent(Math.min(...ratios))}–${percent(Math.max(...ratios))})` : ''
      return `| ${row.measure} | ${row.window} | ${format(tidings, row.unit)} | ${format(raw, row.unit)} | ${percent(median(ratios))}${spread}${delta} | ${row.unit} |`
    }),
    '',
  ]
  console.log(lines.join('\n'))
}
