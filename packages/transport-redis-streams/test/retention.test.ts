import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { EncodedMessage } from '@tidings/core'
import { describe, expect, it, vi } from 'vitest'
import type { RedisStreamsTransport } from '../src/index.js'
import { namespaceKeys } from '../src/keys.js'
import {
  message,
  REDIS_URL,
  record,
  sleep,
  subscribeOptions,
  useRedisTestNamespace,
  waitFor,
} from './support.js'

const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url))

/**
 * A separate Node process that subscribes an ephemeral group through the public API and then waits to
 * be killed. Its handler settles `audit.retry` with a 10-minute retry (a member of the group's delayed
 * set), `audit.dead` with a dead letter (the group's dlq stream), never settles `audit.hold` (an entry
 * stuck in the group's pending list, which pins trimming) and acks the rest.
 */
function spawnEphemeralProcess(
  namespace: string,
  group: string,
): {
  readonly child: ChildProcess
  readonly output: string[]
} {
  const script = `
import { decodeEnvelope, silentLogger } from '@tidings/core'
import { redisStreamsTransport } from ${JSON.stringify(`${PACKAGE_DIR}src/index.ts`)}
const transport = redisStreamsTransport({
  url: ${JSON.stringify(REDIS_URL)},
  namespace: ${JSON.stringify(namespace)},
  blockMs: 500,
  ephemeralExpiryMs: 1000,
  trimIntervalMs: 0,
})
await transport.connect({ logger: silentLogger, notify: () => {} })
const options = { group: ${JSON.stringify(group)}, patterns: ['audit.*'], durable: false, concurrency: 8,
  ackTimeoutMs: 60000, consumerName: 'doomed-process', maxAttempts: 5 }
await transport.subscribe(options, async (delivery) => {
  const event = decodeEnvelope(delivery.body)
  if (event.type === 'audit.retry') await delivery.retry({ delayMs: 600000, attempt: 2, history: [] })
  else if (event.type === 'audit.dead')
    await delivery.deadLetter({ id: event.id, type: event.type, history: [], reason: 'test' })
  else if (event.type === 'audit.hold') return new Promise(() => {})
  else await delivery.ack()
  console.log('settled ' + event.type)
})
console.log('subscribed')
`
  // node itself with tsx as a loader (not the tsx CLI, which runs node as a grandchild that SIGKILL
  // would not reach).
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=@tidings/source', '--input-type=module', '-e', script],
    {
      cwd: PACKAGE_DIR,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  const output: string[] = []
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => output.push(...chunk.split('\n')))
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => output.push(`stderr: ${chunk}`))
  return { child, output }
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const started = Date.now()
  while (!(await check())) {
    if (Date.now() - started > timeoutMs)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(10)
  }
}

describe('redis-streams retention', () => {
  const redis = useRedisTestNamespace()

  it('100,000 events published and consumed leave the stream trimmed and the pending lists empty', async () => {
    const transport = await redis.open({ trimIntervalMs: 200 })
    const keys = namespaceKeys(redis.namespace)
    const count = { orders: 0, all: 0 }
    await record(
      transport,
      subscribeOptions('orders-project', ['order.*'], { concurrency: 256 }),
      (delivery) => {
        count.orders += 1
        return delivery.ack()
      },
    )
    await record(transport, subscribeOptions('audit-all', ['#'], { concurrency: 256 }), (delivery) => {
      count.all += 1
      return delivery.ack()
    })
    const total = 100_000
    const template = message('order.placed', { n: 0 })
    for (let i = 0; i < total; i += 2000) {
      const batch: Promise<void>[] = []
      for (let j = i; j < Math.min(total, i + 2000); j += 1) {
        // Every tenth event matches only the catch-all group: those are acked without a handler.
        const type = j % 10 === 0 ? 'invoice.sent' : 'order.placed'
        batch.push(transport.publish(new EncodedMessage(`e${j}`, type, undefined, template.text)))
      }
      await Promise.all(batch)
    }
    await waitFor(() => count.all === total && count.orders === total - total / 10, 'every delivery', 60_000)
    const pending = async (stream: string, group: string) =>
      ((await redis.raw.xpending(stream, group)) as [number])[0]
    await (transport as RedisStreamsTransport).trimNow()
    expect(await pending(keys.events, 'orders-project')).toBe(0)
    expect(await pending(keys.events, 'audit-all')).toBe(0)
    // Approximate trimming keeps at most one radix-tree node (100 entries by default) of acked entries.
    expect(await redis.raw.xlen(keys.events)).toBeLessThanOrEqual(200)
  }, 90_000)

  it('never trims entries a group has not acknowledged yet', async () => {
    const transport = await redis.open({ trimIntervalMs: 0 })
    const keys = namespaceKeys(redis.namespace)
    const slowReleased: (() => void)[] = []
    const releaseAll = (): void => {
      for (const release of slowReleased.splice(0)) release()
    }
    await record(transport, subscribeOptions('fast', ['#'], { concurrency: 64 }))
    const slow = await record(transport, subscribeOptions('slow', ['#'], { concurrency: 1 }), (delivery) =>
      new Promise<void>((resolve) => slowReleased.push(resolve)).then(() => delivery.ack()),
    )
    for (let i = 0; i < 1000; i += 1) await transport.publish(message('tick.tocked', { i }))
    await waitFor(() => slow.log.length >= 1, 'slow group started')
    await (transport as RedisStreamsTransport).trimNow()
    // The slow group holds what it read (concurrency + read-ahead, all unacknowledged): everything stays.
    expect(await redis.raw.xlen(keys.events)).toBe(1000)
    // Let it go through everything: then trimming can remove them.
    const drain = setInterval(() => releaseAll(), 1)
    await waitFor(() => slow.log.length === 1000, 'slow group done', 20_000)
    clearInterval(drain)
    releaseAll()
    await new Promise((resolve) => setTimeout(resolve, 50))
    await (transport as RedisStreamsTransport).trimNow()
    expect(await redis.raw.xlen(keys.events)).toBeLessThanOrEqual(200)
  })

  it('removes the ephemeral group of a process that crashed without close() once its heartbeat is ephemeralExpiryMs old, with its retry, delayed and dlq keys, leaving durable and live groups alone', async () => {
    // The crash is real: the ephemeral group belongs to another Node process (public API only), which
    // is killed with SIGKILL, so no close(), no finally block, no last ack or ZREM ever runs; its
    // connections drop and its heartbeat stops exactly as when a container is OOM-killed. This process
    // is the survivor whose retention timer has to clean up after it.
    const keys = namespaceKeys(redis.namespace)
    const survivor = await redis.open({ trimIntervalMs: 50, ephemeralExpiryMs: 1000 })
    const durable = await record(
      survivor,
      subscribeOptions('ledger', ['audit.*']),
      async (delivery, event) => {
        if (event.type === 'audit.retry') await delivery.retry({ delayMs: 600_000, attempt: 2, history: [] })
        else if (event.type === 'audit.dead')
          await delivery.deadLetter({ id: event.id, type: event.type, history: [], reason: 'test' })
        else await delivery.ack()
      },
    )
    const alive = `tail-alive-${randomBytes(3).toString('hex')}`
    const live = await record(survivor, subscribeOptions(alive, ['audit.*'], { durable: false }))

    const crashed = `tail-crashed-${randomBytes(3).toString('hex')}`
    const { child, output } = spawnEphemeralProcess(redis.namespace, crashed)
    const exited = new Promise((resolve) => child.once('exit', resolve))
    let lastHeartbeat = 0
    try {
      await waitFor(
        () => output.includes('subscribed') || child.exitCode !== null,
        'the other process',
        15_000,
      )
      expect(output).toContain('subscribed')
      const total = 303
      await survivor.publish(message('audit.retry'))
      await survivor.publish(message('audit.dead'))
      await survivor.publish(message('audit.hold'))
      for (let i = 3; i < total; i += 1) await survivor.publish(message('audit.logged', { i }))
      const pending = async (group: string) => ((await redis.raw.xpending(keys.events, group)) as [number])[0]
      const crashedKeys = keys.group(crashed)
      await until(
        async () =>
          (await redis.raw.zcard(crashedKeys.delayed)) === 1 &&
          (await redis.raw.xlen(crashedKeys.dlq)) === 1 &&
          output.filter((line) => line === 'settled audit.logged').length === total - 3 &&
          (await pending(crashed)) === 1, // only audit.hold: every ack has reached Redis
        'the other process to settle everything but audit.hold',
      )
      await waitFor(() => durable.log.length === total && live.log.length === total, 'the live groups')
      await until(async () => (await pending('ledger')) === 0 && (await pending(alive)) === 0, 'their acks')
      // The stuck entry pins the stream: trimming cannot pass it while the group exists.
      await (survivor as RedisStreamsTransport).trimNow()
      expect(await redis.raw.xlen(keys.events)).toBe(total)

      child.kill('SIGKILL')
      await exited
      // Heartbeats carry the Redis server's clock, which this machine shares.
      lastHeartbeat = Number(await redis.raw.zscore(keys.ephemeral, crashed))
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    }
    const groups = async () =>
      ((await redis.raw.xinfo('GROUPS', keys.events)) as unknown[][]).map((g) => String(g[1])).sort()
    // Silent for less than ephemeralExpiryMs (1000; the smallest allowed) is not a crash yet.
    await sleep(Math.max(0, lastHeartbeat + 800 - Date.now()))
    expect(await groups()).toContain(crashed)
    expect(Number(await redis.raw.zscore(keys.ephemeral, crashed))).toBe(lastHeartbeat)

    await until(async () => !(await groups()).includes(crashed), 'retention to remove the group', 5000)
    const crashedKeys = keys.group(crashed)
    expect(
      await redis.raw.exists(crashedKeys.retry, crashedKeys.delayed, crashedKeys.dlq),
      'retry, delayed and dlq keys of the crashed group',
    ).toBe(0)
    expect(await redis.raw.zscore(keys.ephemeral, crashed)).toBeNull()
    // Removed after the expiry, within a few trim intervals of it.
    expect(Date.now() - lastHeartbeat).toBeGreaterThanOrEqual(1000)
    expect(Date.now() - lastHeartbeat).toBeLessThan(2500)

    // The durable group and the ephemeral group of the live process are untouched.
    expect(await groups()).toEqual(['ledger', alive].sort())
    const ledgerKeys = keys.group('ledger')
    expect(await redis.raw.exists(ledgerKeys.retry)).toBe(1)
    expect(await redis.raw.zcard(ledgerKeys.delayed)).toBe(1)
    expect(await redis.raw.xlen(ledgerKeys.dlq)).toBe(1)
    expect(await redis.raw.exists(keys.group(alive).retry)).toBe(1)
    expect(await redis.raw.zscore(keys.ephemeral, alive)).not.toBeNull()

    // Nothing pins the stream any more.
    await (survivor as RedisStreamsTransport).trimNow()
    expect(await redis.raw.xlen(keys.events)).toBeLessThanOrEqual(200)
    expect(durable.log).toHaveLength(303)
  }, 20_000)

  it('judges an ephemeral group silent by the Redis clock, not by a cleaning process whose clock runs ahead', async () => {
    const keys = namespaceKeys(redis.namespace)
    const listening = await redis.open({ ephemeralExpiryMs: 1000, trimIntervalMs: 0 })
    const tail = `tail-${randomBytes(3).toString('hex')}`
    await record(listening, subscribeOptions(tail, ['audit.*'], { durable: false }))
    const cleaner = await redis.open({ ephemeralExpiryMs: 1000, trimIntervalMs: 0 })
    const realNow = Date.now.bind(Date)
    // This process's clock an hour ahead: a cleaner trusting it would see every heartbeat as stale.
    vi.spyOn(Date, 'now').mockImplementation(() => realNow() + 3_600_000)
    try {
      await (cleaner as RedisStreamsTransport).trimNow()
    } finally {
      vi.restoreAllMocks()
    }
    const groups = ((await redis.raw.xinfo('GROUPS', keys.events)) as unknown[][]).map((g) => String(g[1]))
    expect(groups).toContain(tail)
    expect(await redis.raw.zscore(keys.ephemeral, tail)).not.toBeNull()
  })

  it('brings an ephemeral group removed under a live process back at the end of the stream, not with the backlog', async () => {
    const keys = namespaceKeys(redis.namespace)
    const transport = await redis.open({ trimIntervalMs: 0 })
    const tail = `tail-${randomBytes(3).toString('hex')}`
    const { log } = await record(transport, subscribeOptions(tail, ['audit.*'], { durable: false }))
    for (let i = 0; i < 5; i += 1) await transport.publish(message('audit.logged', { i }))
    await waitFor(() => log.length === 5, 'the first five')
    // What retention does to a group it took for abandoned (its process paused past the expiry).
    await redis.raw.call('XGROUP', 'DESTROY', keys.events, tail)
    await until(
      async () => ((await redis.raw.xinfo('GROUPS', keys.events)) as unknown[]).length === 1,
      'the live process to recreate its group',
    )
    await transport.publish(message('audit.logged', { i: 5 }))
    await waitFor(() => log.length === 6, 'the next event')
    await sleep(100)
    // Recreated at 0 it would have read the five it had already handled once more.
    expect(log.map((entry) => (entry.event.data as { i: number }).i)).toEqual([0, 1, 2, 3, 4, 5])
  })
})
