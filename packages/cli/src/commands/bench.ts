import { randomBytes } from 'node:crypto'
import { redactUrl } from '@tidings/core'
import { SingleBar } from 'cli-progress'
import { type ConnectionOptions, cliBus, resolveUrl } from '../connection.js'
import { CommandError } from '../errors.js'
import { table } from '../format.js'
import { colorsFor, type Terminal, writeJson, writeLine } from '../terminal.js'

export interface BenchOptions extends ConnectionOptions {
  readonly events: number
  readonly size: number
  readonly concurrency: number
  readonly json?: boolean | undefined
}

export interface BenchResult {
  readonly transport: string
  readonly events: number
  readonly bytes: number
  readonly inFlight: number
  readonly publishPerSecond: number
  readonly endToEndPerSecond: number
  readonly latencyMs: {
    readonly p50: number
    readonly p95: number
    readonly p99: number
    readonly max: number
  }
}

/**
 * Publishes `events` events of about `size` bytes with `concurrency` publishes in flight to an
 * ephemeral listener of the same process (its group is removed at the end), and measures publish
 * rate, end-to-end rate and publish → handler latency on the configured broker.
 */
export async function benchCommand(options: BenchOptions, terminal: Terminal): Promise<BenchResult> {
  const url = resolveUrl(options, terminal.env)
  const bus = cliBus(url, options)
  const type = `tidings.bench.${randomBytes(4).toString('hex')}`
  const padding = 'x'.repeat(Math.max(0, options.size - 200)) // the envelope's own fields are about 200 bytes
  const latencies = new Float64Array(options.events)
  let handled = 0
  let allHandled: () => void = () => {}
  const done = new Promise<void>((resolve) => {
    allHandled = resolve
  })
  bus.listen(
    type,
    (event) => {
      const { sentAt } = event.data as { sentAt: number }
      latencies[handled] = performance.now() - sentAt
      handled += 1
      if (handled === options.events) allHandled()
    },
    {
      name: `bench-${randomBytes(4).toString('hex')}`,
      durable: false,
      concurrency: options.concurrency,
      retry: false,
    },
  )
  const progress = terminal.err.isTTY
    ? new SingleBar({
        format: `${redactUrl(url)} |{bar}| {value}/{total} events handled`,
        stream: terminal.err as NodeJS.WritableStream,
        hideCursor: true,
        clearOnComplete: true,
      })
    : undefined
  try {
    await bus.start()
    progress?.start(options.events, 0)
    const ticker = progress ? setInterval(() => progress.update(handled), 100) : undefined
    const started = performance.now()
    let next = 0
    const publisher = async (): Promise<void> => {
      while (next < options.events) {
        next += 1
        await bus.publish(type, { sentAt: performance.now(), padding })
      }
    }
    await Promise.all(Array.from({ length: Math.min(options.concurrency, options.events) }, publisher))
    const published = performance.now()
    const timeout = setTimeout(() => allHandled(), 60_000)
    await done
    clearTimeout(timeout)
    const finished = performance.now()
    if (ticker) clearInterval(ticker)
    progress?.update(handled)
    progress?.stop()
    if (handled < options.events) {
      throw new CommandError(
        `Only ${handled} of ${options.events} events came back within 60 s on ${redactUrl(url)}.`,
      )
    }
    const sorted = Array.from(latencies).sort((a, b) => a - b)
    const at = (share: number) =>
      round(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * share))]!)
    const result: BenchResult = {
      transport: redactUrl(url),
      events: options.events,
      bytes: options.size,
      inFlight: options.concurrency,
      publishPerSecond: Math.round((options.events / (published - started)) * 1000),
      endToEndPerSecond: Math.round((options.events / (finished - started)) * 1000),
      latencyMs: { p50: at(0.5), p95: at(0.95), p99: at(0.99), max: round(sorted[sorted.length - 1]!) },
    }
    print(result, options, terminal)
    return result
  } finally {
    progress?.stop()
    await bus.close()
  }
}

function print(result: BenchResult, options: BenchOptions, terminal: Terminal): void {
  if (options.json) {
    writeJson(terminal.out, result)
    return
  }
  const colors = colorsFor(terminal.out, terminal.env)
  writeLine(
    terminal.out,
    `${result.events.toLocaleString('en-US')} events of ~${result.bytes} bytes, ${result.inFlight} in flight, on ${result.transport}`,
  )
  writeLine(
    terminal.out,
    table(
      ['measure', 'value'],
      [
        ['publish', `${result.publishPerSecond.toLocaleString('en-US')} events/s`],
        ['end-to-end (publish → handler)', `${result.endToEndPerSecond.toLocaleString('en-US')} events/s`],
        ['latency p50', `${result.latencyMs.p50} ms`],
        ['latency p95', `${result.latencyMs.p95} ms`],
        ['latency p99', `${result.latencyMs.p99} ms`],
        ['latency max', `${result.latencyMs.max} ms`],
      ],
      colors,
    ),
  )
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100
}
