/**
 * `npm run bench -- memory`: the memory transport with 1 KiB events, measured like the broker
 * benches (publish and publish → handle → ack with 1, 10, 100 and 1,000 publishes in flight, latency
 * at a paced 1,000 events/s) against the in-process floor: what any in-process bus must do at least
 * when events go through the wire format (JSON.stringify of the envelope, a queue, JSON.parse on the
 * way out, the handler called). Then what the memory transport alone is asked about: concurrency 1,
 * and the cost of 100,000 pending delayed retries.
 */
import { randomUUID } from 'node:crypto'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { type Bus, createBus, MemoryBroker, memoryTransport, RetryLater, silentLogger } from '@tidings/core'
import {
  type BenchSide,
  benchSide,
  compareWithRaw,
  makePayload,
  medianOf,
  now,
  slidingWindow,
  tidingsConsumer,
  until,
} from './harness.js'

const EVENTS = Number(process.env.BENCH_EVENTS ?? 100_000)
const PENDING_RETRIES = 100_000
const TYPE = 'bench.order.placed'

type Payload = ReturnType<typeof makePayload>

const done = Promise.resolve()

// ---- the in-process floor ------------------------------------------------------------------------

async function floorSide(): Promise<BenchSide> {
  const payload = makePayload(1024)
  const queue: string[] = []
  let onEvent: ((data: Payload) => void) | undefined
  let draining = false
  const drain = (): void => {
    draining = false
    const handle = onEvent
    if (!handle) return
    for (let text = queue.shift(); text !== undefined; text = queue.shift())
      handle((JSON.parse(text) as { data: Payload }).data)
  }
  /**
   * Encode the envelope, queue it, hand it to the consumer after the publisher's tick. With nobody
   * listening the encoded event is dropped, as a bus drops an event no group listens to.
   */
  const publish = (data: Payload): Promise<void> => {
    const id = randomUUID()
    const text = JSON.stringify({
      specversion: '1.0',
      id,
      type: TYPE,
      source: '/bench',
      time: new Date().toISOString(),
      datacontenttype: 'application/json',
      data,
    })
    if (!onEvent) return done
    queue.push(text)
    if (!draining) {
      draining = true
      queueMicrotask(drain)
    }
    return done
  }
  return benchSide('floor', {
    publishOne: () => publish(payload),
    async afterPublish() {
      queue.length = 0
    },
    async consumer(handle) {
      onEvent = handle
      drain()
      return async () => {
        onEvent = undefined
      }
    },
    publishStamped: (sentAt) => void publish({ ...payload, sentAt }),
    async cleanup() {},
  })
}

// ---- Tidings on the memory transport -------------------------------------------------------------

async function tidingsSide(): Promise<BenchSide> {
  let broker = new MemoryBroker()
  const newBus = (): Bus =>
    createBus({ service: 'bench', transport: memoryTransport({ broker }), logger: silentLogger })
  const listenOptions = { name: 'group', concurrency: 64, retry: false as const }
  let publisher = newBus()
  const payload = makePayload(1024)
  const consumer = tidingsConsumer<Payload>(newBus, listenOptions)
  /** A fresh broker after every run, so no run inherits another's queue. */
  const reset = async (): Promise<void> => {
    await publisher.close()
    broker.reset()
    broker = new MemoryBroker()
    publisher = newBus()
  }
  return benchSide('Tidings', {
    publishOne: () => publisher.publish(TYPE, payload),
    afterPublish: reset,
    afterRun: reset,
    consumer,
    publishStamped: (sentAt) => void publisher.publish(TYPE, { ...payload, sentAt }),
    async cleanup() {
      await publisher.close()
      broker.reset()
    },
  })
}

// ---- what only the memory transport is asked -----------------------------------------------------

async function endToEnd(broker: MemoryBroker, count: number, concurrency: number): Promise<number> {
  const bus = createBus({ service: 'bench', transport: memoryTransport({ broker }), logger: silentLogger })
  let handled = 0
  const handle = (): void => {
    handled += 1
  }
  bus.listen('bench.fresh', handle, {
    name: `fresh${Math.random().toString(36).slice(2, 8)}`,
    concurrency,
  })
  await bus.start()
  const payload = makePayload(1024)
  const started = now()
  await slidingWindow(1000, { count }, () => bus.publish('bench.fresh', payload))
  await until(() => handled >= count, 120_000, 'fresh events handled')
  const rate = (count / (now() - started)) * 1000
  await bus.close()
  return rate
}

/** A full garbage collection, so heap figures measure what is retained, not what is garbage. */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc')
  ;(runInNewContext('gc') as () => void)()
}

async function parkDelayedRetries(
  broker: MemoryBroker,
  count: number,
): Promise<{ ms: number; heapMiB: number; close: () => Promise<void> }> {
  collectGarbage()
  const heapBefore = process.memoryUsage().heapUsed
  const bus = createBus({ service: 'bench', transport: memoryTransport({ broker }), logger: silentLogger })
  bus.listen(
    'bench.parked',
    () => {
      throw new RetryLater(3_600_000)
    },
    { name: 'parked', concurrency: 256, retry: { maxAttempts: 2 } },
  )
  await bus.start()
  const payload = makePayload(1024)
  const started = now()
  await slidingWindow(1000, { count }, () => bus.publish('bench.parked', payload))
  await until(() => broker.pendingDelays >= count, 120_000, 'retries parked')
  const ms = now() - started
  collectGarbage()
  return {
    ms,
    heapMiB: (process.memoryUsage().heapUsed - heapBefore) / 1024 / 1024,
    close: () => bus.close(),
  }
}

export async function main(): Promise<void> {
  await compareWithRaw(
    {
      title: 'memory transport, one listener, concurrency 64',
      rawName: 'in-process floor',
      publishLabel: 'publish (nobody listening)',
      consumeLabel: 'consume',
      maxEvents: 200_000,
      consumeEvents: 0,
      latencyEvents: 5_000,
      runs: Number(process.env.BENCH_RUNS ?? 3),
    },
    floorSide,
    tidingsSide,
  )

  const rows: string[] = []
  const single = await medianOf(3, () => endToEnd(new MemoryBroker(), EVENTS, 1))
  rows.push(`| publish → handle → ack, concurrency 1, 1,000 in flight | ${fmt(single)} events/s |`)
  const loaded = new MemoryBroker()
  const parked = await parkDelayedRetries(loaded, PENDING_RETRIES)
  rows.push(
    `| park ${fmt(PENDING_RETRIES)} delayed retries (1 h) | ${parked.ms.toFixed(0)} ms, +${parked.heapMiB.toFixed(0)} MiB heap |`,
  )
  const withPending = await medianOf(3, () => endToEnd(loaded, EVENTS, 64))
  rows.push(
    `| publish → handle → ack with ${fmt(loaded.pendingDelays)} retries pending, concurrency 64, 1,000 in flight | ${fmt(withPending)} events/s |`,
  )
  console.log(
    [
      `### memory transport only (${EVENTS.toLocaleString('en-US')} events of 1 KiB, median of 3, Node ${process.version})`,
      '',
      '| measure | result |',
      '|---|---:|',
      ...rows,
      '',
    ].join('\n'),
  )
  await parked.close()
  loaded.reset() // drops the parked retries and their one timer
}

function fmt(value: number): string {
  return Math.round(value).toLocaleString('en-US')
}
