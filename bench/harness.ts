/**
 * Shared benchmark plumbing: every transport bench measures Tidings and the raw driver in the same
 * run with the same helpers, then prints one table with the ratio.
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

/** Events per second for `count` events, given a function that does the whole job and resolves at the end. */
export async function throughput(count: number, job: () => Promise<void>): Promise<number> {
  const started = now()
  await job()
  return (count / (now() - started)) * 1000
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

/** Resolves once `count()` reaches `target`, polling cheaply; rejects after `timeoutMs`. */
export async function until(check: () => boolean, timeoutMs = 120_000, what = 'condition'): Promise<void> {
  const started = now()
  while (!check()) {
    if (now() - started > timeoutMs) throw new Error(`bench: timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
}

export interface BenchRow {
  readonly measure: string
  readonly tidings: number
  readonly raw: number
  readonly unit: string
  /** true for throughput (bigger is better), false for latency. */
  readonly higherIsBetter: boolean
}

/** Prints a Markdown table (so it can be pasted into docs/benchmarks.md as is). */
export function printTable(title: string, rows: readonly BenchRow[], rawName = 'raw driver'): void {
  const format = (value: number, unit: string): string =>
    unit === 'ms' ? value.toFixed(2) : Math.round(value).toLocaleString('en-US')
  const lines = [
    `### ${title}`,
    '',
    `| measure | Tidings | ${rawName} | Tidings / raw | unit |`,
    '|---|---:|---:|---:|---|',
    ...rows.map((row) => {
      const ratio = row.higherIsBetter ? row.tidings / row.raw : row.raw / row.tidings
      const delta = row.higherIsBetter
        ? ''
        : ` (${row.tidings - row.raw >= 0 ? '+' : ''}${(row.tidings - row.raw).toFixed(2)} ms)`
      return `| ${row.measure} | ${format(row.tidings, row.unit)} | ${format(row.raw, row.unit)} | ${(ratio * 100).toFixed(0)} %${delta} | ${row.unit} |`
    }),
    '',
  ]
  console.log(lines.join('\n'))
}

/** One way of moving events through a broker: the raw driver, or Tidings. Rates in msgs/s, latency in ms. */
export interface BenchSide {
  publish(count: number): Promise<number>
  consume(count: number): Promise<number>
  endToEnd(count: number): Promise<number>
  latency(count: number): Promise<{ p50: number; p99: number }>
  cleanup(): Promise<void>
}

export interface Comparison {
  readonly title: string
  readonly rawName: string
  readonly publishLabel: string
  readonly consumeLabel: string
  readonly events: number
  readonly latencyEvents: number
  readonly runs: number
  /**
   * Latency runs per side (default 5): a p99 over 10,000 events at 1,000/s moves by milliseconds
   * between runs on a shared 2-core machine, so its median needs more runs than throughput does.
   */
  readonly latencyRuns?: number
}

/**
 * Measures both sides with the same workloads, interleaving raw and Tidings runs so drift on the
 * machine affects both alike, and prints the medians as one table.
 */
export async function compareWithRaw(
  comparison: Comparison,
  makeRaw: () => Promise<BenchSide>,
  makeTidings: () => Promise<BenchSide>,
): Promise<void> {
  const raw = await makeRaw()
  const tidings = await makeTidings()
  try {
    const { runs, events, latencyEvents } = comparison
    const both = async (
      measure: (side: BenchSide) => Promise<number>,
    ): Promise<{ raw: number; tidings: number }> => {
      const rawRuns: number[] = []
      const tidingsRuns: number[] = []
      for (let run = 0; run < runs; run += 1) {
        rawRuns.push(await measure(raw))
        tidingsRuns.push(await measure(tidings))
      }
      return { raw: median(rawRuns), tidings: median(tidingsRuns) }
    }
    const throughput = (measure: string, values: { raw: number; tidings: number }): BenchRow => ({
      measure,
      ...values,
      unit: 'msgs/s',
      higherIsBetter: true,
    })
    const rows: BenchRow[] = [
      throughput(comparison.publishLabel, await both((side) => side.publish(events))),
      throughput(comparison.consumeLabel, await both((side) => side.consume(events))),
      throughput('end-to-end publish → handle → ack', await both((side) => side.endToEnd(events))),
    ]
    const samples = {
      raw: { p50: [] as number[], p99: [] as number[] },
      tidings: { p50: [] as number[], p99: [] as number[] },
    }
    const latencyRuns = comparison.latencyRuns ?? 5
    for (let run = 0; run < latencyRuns; run += 1) {
      for (const [name, side] of [['raw', raw] as const, ['tidings', tidings] as const]) {
        const { p50, p99 } = await side.latency(latencyEvents)
        samples[name].p50.push(p50)
        samples[name].p99.push(p99)
      }
    }
    for (const percentile of ['p50', 'p99'] as const) {
      rows.push({
        measure: `latency ${percentile} at 1,000 events/s`,
        raw: median(samples.raw[percentile]),
        tidings: median(samples.tidings[percentile]),
        unit: 'ms',
        higherIsBetter: false,
      })
    }
    printTable(
      `${comparison.title} (${events.toLocaleString('en-US')} events of 1 KiB, median of ${runs} runs; latency over ${latencyEvents.toLocaleString('en-US')}, median of ${latencyRuns} runs; Node ${process.version})`,
      rows,
      comparison.rawName,
    )
  } finally {
    await raw.cleanup()
    await tidings.cleanup()
  }
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]!
}

/** What a benchmark side is made of; `benchSide` turns it into the measured workloads. */
export interface SideParts<Data extends { sentAt: number }> {
  /** Publish `count` events and resolve once the broker confirmed all of them. */
  publishAll(count: number): Promise<void>
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

/** The same four workloads for the raw driver and for Tidings, so they differ only in their parts. */
export function benchSide<Data extends { sentAt: number }>(name: string, parts: SideParts<Data>): BenchSide {
  return {
    async publish(count) {
      const started = now()
      await parts.publishAll(count)
      const rate = (count / (now() - started)) * 1000
      await parts.afterPublish()
      return rate
    },
    async consume(count) {
      await parts.publishAll(count)
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
    async endToEnd(count) {
      let handled = 0
      const stop = await parts.consumer(() => {
        handled += 1
      })
      const started = now()
      await parts.publishAll(count)
      await until(() => handled >= count, 120_000, `${name} end-to-end`)
      const rate = (count / (now() - started)) * 1000
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

/** Publishes `count` events, `batchSize` in flight at a time, waiting for every acceptance. */
export async function publishInBatches(
  count: number,
  batchSize: number,
  publishOne: () => Promise<unknown>,
): Promise<void> {
  for (let sent = 0; sent < count; sent += batchSize) {
    const batch: Promise<unknown>[] = []
    for (let i = 0; i < Math.min(batchSize, count - sent); i += 1) batch.push(publishOne())
    await Promise.all(batch)
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
