import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { type Bus, createBus, type Event, fixed, type Logger } from '@tidings/core'
import { Cluster, Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type RedisStreamsTransport, redisStreamsTransport } from '../src/index.js'
import { namespaceKeys } from '../src/keys.js'
import { deleteNamespace, randomNamespace, sleep, waitFor } from './support.js'

/**
 * A private 3-master Redis Cluster (no replicas, memory only) started for this file and killed
 * afterwards; the shared Redis on 6379 is never touched. Everything goes through a real ioredis
 * `Cluster` handed to the transport as `client`, so commands are routed by slot and MOVED/CROSSSLOT
 * errors would surface exactly as in production.
 */

const run = promisify(execFile)
const HOST = '127.0.0.1'

interface PrivateCluster {
  readonly dir: string
  readonly ports: readonly number[]
  readonly servers: readonly ChildProcess[]
}

async function canListen(port: number): Promise<boolean> {
  const server = createServer()
  return new Promise((resolve) => {
    server.once('error', () => resolve(false))
    server.listen(port, HOST, () => server.close(() => resolve(true)))
  })
}

/** Ports whose cluster-bus port (port + 10000) is free too. */
async function clusterPorts(count: number): Promise<number[]> {
  const ports: number[] = []
  for (let tries = 0; ports.length < count; tries += 1) {
    if (tries > 500) throw new Error('no free ports for a private Redis Cluster')
    const port = 20_000 + Math.floor(Math.random() * 35_000)
    // Neither the port nor its bus port may meet another node's port or bus port.
    if (ports.some((p) => [p - 10_000, p, p + 10_000].includes(port))) continue
    if ((await canListen(port)) && (await canListen(port + 10_000))) ports.push(port)
  }
  return ports
}

function nodeClient(port: number): Redis {
  const client = new Redis(port, HOST, {
    maxRetriesPerRequest: 1,
    lazyConnect: true,
    retryStrategy: () => null,
  })
  client.on('error', () => {})
  return client
}

async function startNode(port: number, dir: string): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      HOST,
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      join(dir, `nodes-${port}.conf`),
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      'no',
    ],
    { stdio: 'ignore' },
  )
  const started = Date.now()
  for (;;) {
    const probe = nodeClient(port)
    try {
      await probe.connect()
      await probe.ping()
      return child
    } catch {
      if (child.exitCode !== null) throw new Error(`redis-server on port ${port} exited (${child.exitCode})`)
      if (Date.now() - started > 5000) throw new Error(`redis-server did not start on port ${port}`)
      await sleep(25)
    } finally {
      probe.disconnect()
    }
  }
}

async function startCluster(): Promise<PrivateCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'tidings-cluster-'))
  const ports = await clusterPorts(3)
  const servers: ChildProcess[] = []
  const cluster = { dir, ports, servers }
  try {
    for (const port of ports) servers.push(await startNode(port, dir))
    await run(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...ports.map((port) => `${HOST}:${port}`),
        '--cluster-replicas',
        '0',
        '--cluster-yes',
      ],
      { timeout: 15_000 },
    )
    const probes = ports.map(nodeClient)
    try {
      await Promise.all(probes.map((probe) => probe.connect()))
      const states = async () =>
        Promise.all(probes.map(async (probe) => String(await probe.call('CLUSTER', 'INFO'))))
      const started = Date.now()
      while (!(await states()).every((info) => info.includes('cluster_state:ok'))) {
        if (Date.now() - started > 10_000)
          throw new Error('the private Redis Cluster never reached cluster_state:ok')
        await sleep(50)
      }
    } finally {
      for (const probe of probes) probe.disconnect()
    }
    return cluster
  } catch (error) {
    await stopCluster(cluster)
    throw error
  }
}

async function stopCluster(cluster: PrivateCluster | undefined): Promise<void> {
  if (!cluster) return
  await Promise.all(
    cluster.servers.map(async (child) => {
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGKILL')
      await exited
    }),
  )
  await rm(cluster.dir, { recursive: true, force: true })
}

/** A logger that keeps warnings and errors, so a cluster-only failure (CROSSSLOT, MOVED, …) is seen. */
function recordingLogger(): Logger & { readonly problems: string[] } {
  const problems: string[] = []
  const keep =
    (level: string) =>
    (fields: unknown, message?: string): void => {
      const text = JSON.stringify(fields, (_key, value: unknown) =>
        value instanceof Error ? `${value.name}: ${value.message}` : value,
      )
      problems.push(`${level}: ${message ?? ''} ${text}`)
    }
  const noop = (): void => {}
  return { debug: noop, info: noop, warn: keep('warn'), error: keep('error'), problems } as Logger & {
    readonly problems: string[]
  }
}

describe('redis-streams on a private 3-master Redis Cluster', () => {
  let privateCluster: PrivateCluster | undefined
  let cluster: Cluster
  /** One raw connection per master, for assertions about where keys live. */
  let nodes: Redis[] = []
  let namespaces: string[] = []
  let buses: Bus[] = []

  beforeAll(async () => {
    privateCluster = await startCluster()
    cluster = new Cluster([{ host: HOST, port: privateCluster.ports[0]! }], {
      redisOptions: { maxRetriesPerRequest: 3 },
    })
    cluster.on('error', () => {})
    nodes = privateCluster.ports.map(nodeClient)
    await Promise.all(nodes.map((node) => node.connect()))
    await cluster.ping()
  }, 30_000)

  afterAll(async () => {
    cluster?.disconnect()
    for (const node of nodes) node.disconnect()
    await stopCluster(privateCluster)
  })

  afterEach(async () => {
    await Promise.allSettled(buses.map((bus) => bus.close()))
    await Promise.all(namespaces.map(deleteClusterNamespace))
    buses = []
    namespaces = []
  })

  /** The port of the master that owns a key's slot. */
  async function masterOf(key: string): Promise<number> {
    const slot = Number(await nodes[0]!.call('CLUSTER', 'KEYSLOT', key))
    const ranges = (await nodes[0]!.call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][]
    const range = ranges.find(([from, to]) => slot >= from && slot <= to)
    if (!range) throw new Error(`no master owns slot ${slot}`)
    return Number(range[2][1])
  }

  /** Fresh namespaces whose hash tags land on `count` different masters. */
  async function namespacesOnDifferentMasters(count: number): Promise<string[]> {
    const byMaster = new Map<number, string>()
    for (let tries = 0; byMaster.size < count; tries += 1) {
      if (tries > 200) throw new Error('could not spread namespaces over the masters')
      const namespace = randomNamespace()
      const master = await masterOf(namespaceKeys(namespace).events)
      if (!byMaster.has(master)) byMaster.set(master, namespace)
    }
    const chosen = [...byMaster.values()]
    namespaces.push(...chosen)
    return chosen
  }

  /** Keys of a namespace, per master port (SCAN on every master: a cluster has no global keyspace). */
  async function keysByMaster(namespace: string): Promise<Map<number, string[]>> {
    const found = new Map<number, string[]>()
    for (const [index, node] of nodes.entries()) {
      const keys: string[] = []
      for (const match of [`{${namespace}}:*`, `${namespace}:*`]) {
        let cursor = '0'
        do {
          const [next, page] = await node.scan(cursor, 'MATCH', match, 'COUNT', 1000)
          cursor = next
          keys.push(...page)
        } while (cursor !== '0')
      }
      if (keys.length > 0) found.set(privateCluster!.ports[index]!, keys.sort())
    }
    return found
  }

  /** support.ts's deleteNamespace on every master (a SCAN reaches one node's keys only). */
  async function deleteClusterNamespace(namespace: string): Promise<void> {
    for (const port of privateCluster!.ports) await deleteNamespace(namespace, `redis://${HOST}:${port}`)
  }

  function openBus(namespace: string): {
    bus: Bus
    transport: RedisStreamsTransport
    logger: ReturnType<typeof recordingLogger>
  } {
    const transport = redisStreamsTransport({
      client: cluster,
      namespace,
      blockMs: 500,
      delayedPollMs: 20,
      trimIntervalMs: 0, // only trimNow() trims, so the trimming test sees exactly one pass
    }) as RedisStreamsTransport
    const logger = recordingLogger()
    const bus = createBus({
      service: 'shop',
      transport,
      logger,
      drainTimeoutMs: 2000,
      defaults: { ackTimeoutMs: 3000 },
    })
    buses.push(bus)
    return { bus, transport, logger }
  }

  it('runs publish → handle → ack through the bus on a 3-master Redis Cluster, with every key of a namespace in one slot and three namespaces on three different masters', async () => {
    const chosen = await namespacesOnDifferentMasters(3)
    const handled = new Map<string, string[]>()
    const opened = chosen.map((namespace) => {
      const { bus, logger } = openBus(namespace)
      handled.set(namespace, [])
      bus.listen(
        'order.*',
        (event: Event) => {
          handled.get(namespace)!.push(event.id)
        },
        { name: 'ship' },
      )
      bus.listen('invoice.#', () => {}, { name: 'bill' })
      return { namespace, bus, logger }
    })
    await Promise.all(opened.map(({ bus }) => bus.start()))
    const published = new Map<string, string[]>()
    for (const { namespace, bus } of opened) {
      const ids: string[] = []
      for (let i = 0; i < 20; i += 1) {
        ids.push((await bus.publish(i % 4 === 0 ? 'invoice.sent' : 'order.placed', { i, namespace })).id)
      }
      published.set(namespace, ids)
    }
    for (const { namespace } of opened) {
      await waitFor(() => handled.get(namespace)!.length === 15, `15 order events in ${namespace}`, 5000)
    }

    const masters = new Set<number>()
    for (const { namespace, logger } of opened) {
      const keys = namespaceKeys(namespace)
      // Only this namespace's own events were delivered, each once.
      const orders = published.get(namespace)!.filter((_, i) => i % 4 !== 0)
      expect([...handled.get(namespace)!].sort()).toEqual([...orders].sort())
      // Acked: nothing pending in either group.
      for (const group of ['shop-ship', 'shop-bill']) {
        const [pending] = (await cluster.xpending(keys.events, group)) as [number]
        expect(pending).toBe(0)
      }
      // Every key of the namespace lives on the one master that owns its hash tag's slot.
      const where = await keysByMaster(namespace)
      expect(where.size).toBe(1)
      const [[port, found]] = [...where.entries()] as [[number, string[]]]
      expect(port).toBe(await masterOf(keys.events))
      expect(found).toEqual(
        [keys.events, keys.group('shop-ship').retry, keys.group('shop-bill').retry].sort(),
      )
      const slots = new Set(
        await Promise.all(found.map(async (key) => Number(await nodes[0]!.call('CLUSTER', 'KEYSLOT', key)))),
      )
      expect(slots.size).toBe(1)
      masters.add(port)
      expect(logger.problems).toEqual([])
    }
    expect(masters.size).toBe(3)
  })

  it('retries after a 20 ms delay on the cluster and succeeds on the next attempt, in the failing group only', async () => {
    const [namespace] = await namespacesOnDifferentMasters(1)
    const { bus, logger } = openBus(namespace!)
    const attempts: { attempt: number; at: number }[] = []
    const bystander: string[] = []
    bus.listen(
      'payment.captured',
      (_event: Event, context) => {
        attempts.push({ attempt: context.attempt, at: performance.now() })
        if (context.attempt === 1) throw new Error('ledger busy')
      },
      { name: 'ledger', retry: { maxAttempts: 3, backoff: fixed(20) } },
    )
    bus.listen('payment.captured', (event: Event) => void bystander.push(event.id), { name: 'audit' })
    await bus.start()
    await bus.publish('payment.captured', { amount: 10 })
    await waitFor(() => attempts.length === 2, 'the retry', 5000)
    expect(attempts.map((a) => a.attempt)).toEqual([1, 2])
    expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(15)
    expect(attempts[1]!.at - attempts[0]!.at).toBeLessThan(1000)
    await sleep(100)
    expect(attempts).toHaveLength(2) // succeeded: no third attempt
    expect(bystander).toHaveLength(1) // the retry went to the failing group only
    const keys = namespaceKeys(namespace!).group('shop-ledger')
    expect(await cluster.zcard(keys.delayed)).toBe(0)
    const [pending] = (await cluster.xpending(keys.retry, 'shop-ledger')) as [number]
    expect(pending).toBe(0)
    expect(logger.problems).toEqual([])
  })

  it('dead-letters with the attempt history on the cluster; list, count, replay and purge work on the dlq stream', async () => {
    const [namespace] = await namespacesOnDifferentMasters(1)
    const { bus } = openBus(namespace!)
    let failing = true
    const attempts: { id: string; attempt: number }[] = []
    bus.listen(
      'refund.requested',
      (event: Event, context) => {
        attempts.push({ id: event.id, attempt: context.attempt })
        if (failing) throw new Error(`refund rejected at attempt ${context.attempt}`)
      },
      { name: 'refunds', retry: { maxAttempts: 2, backoff: fixed(10) } },
    )
    await bus.start()
    const sent = [
      await bus.publish('refund.requested', { n: 1 }),
      await bus.publish('refund.requested', { n: 2 }),
    ]
    const dlq = bus.deadLetters('shop-refunds')
    await waitFor(() => attempts.length === 4, 'two attempts of each event', 5000)
    const started = Date.now()
    while ((await dlq.count()) < 2 && Date.now() - started < 5000) await sleep(10)
    expect(await dlq.count()).toBe(2)

    const letters = await dlq.list({ limit: 10 })
    expect(letters.map((letter) => letter.id)).toEqual(sent.map((event) => event.id))
    expect(letters[0]!.group).toBe('shop-refunds')
    expect(letters[0]!.event?.data).toEqual({ n: 1 })
    expect(letters[0]!.history.map((failure) => [failure.attempt, failure.error.message])).toEqual([
      [1, 'refund rejected at attempt 1'],
      [2, 'refund rejected at attempt 2'],
    ])
    expect(letters[0]!.history[0]!.retryDelayMs).toBe(10)
    expect(letters[0]!.reason).not.toBe('')

    failing = false
    expect(await dlq.replay([sent[1]!.id])).toBe(1)
    await waitFor(() => attempts.length === 5, 'the replayed event', 5000)
    expect(attempts[4]).toEqual({ id: sent[1]!.id, attempt: 1 })
    expect(await dlq.count()).toBe(1)

    expect(await dlq.purge()).toBe(1)
    expect(await dlq.count()).toBe(0)
    expect(await dlq.list({ limit: 10 })).toEqual([])
    const keys = namespaceKeys(namespace!)
    const [pending] = (await cluster.xpending(keys.events, 'shop-refunds')) as [number]
    expect(pending).toBe(0)
  })

  it('trims acknowledged entries of the events and retry streams on the cluster (trimNow), never the ones a group still needs', async () => {
    const [namespace] = await namespacesOnDifferentMasters(1)
    const { bus, transport, logger } = openBus(namespace!)
    let fastHandled = 0
    let slowHandled = 0
    let holding = true
    const held: (() => void)[] = []
    bus.listen(
      'metric.recorded',
      (_event: Event, context) => {
        fastHandled += 1
        // Every event goes once through the group's retry stream (delay 0), so both streams fill up.
        if (context.attempt === 1) throw new Error('once more')
      },
      { name: 'metrics', concurrency: 64, retry: { maxAttempts: 2, backoff: fixed(0) } },
    )
    bus.listen(
      'metric.recorded',
      async () => {
        slowHandled += 1
        if (holding) await new Promise<void>((resolve) => held.push(resolve))
      },
      { name: 'slow', concurrency: 1 },
    )
    await bus.start()
    const keys = namespaceKeys(namespace!)
    const retry = keys.group('shop-metrics').retry
    const pending = async (stream: string, group: string) =>
      ((await cluster.xpending(stream, group)) as [number])[0]
    const total = 600
    await Promise.all(Array.from({ length: total }, (_, i) => bus.publish('metric.recorded', { i })))
    await waitFor(
      () => fastHandled === 2 * total && slowHandled === 1,
      'every attempt of the fast group',
      8000,
    )
    const settled = Date.now()
    while ((await pending(retry, 'shop-metrics')) > 0 && Date.now() - settled < 3000) await sleep(10)

    // The slow group still holds its first entry: nothing of the events stream may go.
    await transport.trimNow()
    expect(await cluster.xlen(keys.events)).toBe(total)
    // The retry stream has one group, which acknowledged everything: trimmed (approximately).
    expect(await cluster.xlen(retry)).toBeLessThanOrEqual(200)

    holding = false
    for (const release of held.splice(0)) release()
    await waitFor(() => slowHandled === total, 'the slow group', 8000)
    const drained = Date.now()
    while ((await pending(keys.events, 'shop-slow')) > 0 && Date.now() - drained < 3000) await sleep(10)
    expect(await transport.trimNow()).toBeGreaterThan(0)
    expect(await cluster.xlen(keys.events)).toBeLessThanOrEqual(200)
    expect(logger.problems).toEqual([])
  })

  it('never disconnects a Cluster client it did not create, and closes the connections it made for blocking reads', async () => {
    const [namespace] = await namespacesOnDifferentMasters(1)
    // Every master connected through the shared client first, so its own connections are counted once.
    await Promise.all(cluster.nodes('master').map((node) => node.ping()))
    const connections = async () =>
      (
        await Promise.all(
          nodes.map(async (node) => Number(/connected_clients:(\d+)/.exec(await node.info('clients'))![1])),
        )
      ).reduce((a, b) => a + b, 0)
    const before = await connections()
    const listenersBefore = ['error', 'close', 'ready'].map((name) => cluster.listenerCount(name))

    const { bus, logger } = openBus(namespace!)
    const seen: string[] = []
    bus.listen('user.signed-up', (event: Event) => void seen.push(event.id), { name: 'welcome' })
    bus.listen('user.signed-up', (event: Event) => void seen.push(event.id), { name: 'tail', durable: false })
    await bus.start()
    const event = await bus.publish('user.signed-up', { user: 'ada' })
    await waitFor(() => seen.length === 2, 'both listeners', 5000)
    expect(await connections()).toBeGreaterThan(before) // one duplicate per subscription
    const [tail] = bus.listenerInfo.filter((info) => info.name === 'tail')
    const keys = namespaceKeys(namespace!)
    expect(await cluster.zscore(keys.ephemeral, tail!.group)).not.toBeNull()

    await bus.close()
    expect(cluster.status).toBe('ready')
    expect(await cluster.ping()).toBe('PONG')
    expect(await cluster.xlen(keys.events)).toBe(1)
    // The ephemeral group is gone (XGROUP DESTROY routed to the right master), the durable one stays.
    const groups = ((await cluster.xinfo('GROUPS', keys.events)) as unknown[][]).map((g) => String(g[1]))
    expect(groups).toEqual(['shop-welcome'])
    expect(await cluster.zcard(keys.ephemeral)).toBe(0)
    const closedAt = Date.now()
    while ((await connections()) !== before && Date.now() - closedAt < 3000) await sleep(20)
    expect(await connections()).toBe(before)
    expect(['error', 'close', 'ready'].map((name) => cluster.listenerCount(name))).toEqual(listenersBefore)
    expect(seen).toEqual([event.id, event.id])
    expect(logger.problems).toEqual([])
  })
})
