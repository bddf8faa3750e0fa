/**
 * `npm run bench -- memory`: publish→handle→ack throughput of the memory transport with 1 KiB
 * events, and what 100,000 pending delayed retries cost fresh traffic.
 */
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { createBus, MemoryBroker, memoryTransport, RetryLater, silentLogger } from '@tidings/core'
import { makePayload, medianOf, now, publishInBatches, until } from './harness.js'

const EVENTS = 200_000
const PENDING_RETRIES = 100_000
const BATCH = 1000

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
  await publishInBatches(count, BATCH, () => bus.publish('bench.fresh', payload))
  await until(() => handled >= count, 120_000, 'fresh events handled')
  const rate = (count / (now() - started)) * 1000
  await bus.close()
  return rate
}

async function publishOnly(broker: MemoryBroker, count: number): Promise<number> {
  const bus = createBus({ service: 'bench', transport: memoryTransport({ broker }), logger: silentLogger })
  const payload = makePayload(1024)
  const started = now()
  await publishInBatches(count, BATCH, () => bus.publish('bench.unheard', payload))
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
  await publishInBatches(count, BATCH, () => bus.publish('bench.parked', payload))
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
  const rows: string[] = []
  const publish = await medianOf(3, () => publishOnly(new MemoryBroker(), EVENTS))
  rows.push(`| publish only (no listener) | ${fmt(publish)} events/s |`)
  for (const concurrency of [1, 64]) {
    const rate = await medianOf(3, () => endToEnd(new MemoryBroker(), EVENTS, concurrency))
    rows.push(`| publish → handle → ack, concurrency ${concurrency} | ${fmt(rate)} events/s |`)
  }
  const loaded = new MemoryBroker()
  const parked = await parkDelayedRetries(loaded, PENDING_RETRIES)
  rows.push(
    `| park ${fmt(PENDING_RETRIES)} delayed retries (1 h) | ${parked.ms.toFixed(0)} ms, +${parked.heapMiB.toFixed(0)} MiB heap |`,
  )
  const withPending = await medianOf(3, () => endToEnd(loaded, EVENTS, 64))
  rows.push(
    `| publish → handle → ack with ${fmt(loaded.pendingDelays)} retries pending, concurrency 64 | ${fmt(withPending)} events/s |`,
  )

  console.log(
    [
      `### memory transport (${EVENTS.toLocaleString('en-US')} events of 1 KiB, median of 3, Node ${process.version})`,
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
