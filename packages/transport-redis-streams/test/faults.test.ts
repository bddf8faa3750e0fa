import { type ChildProcess, spawn } from 'node:child_process'
import { createServer } from 'node:net'
import type { Transport } from '@tidings/core'
import { createTcpProxy, type TcpProxy } from '@tidings/testkit'
import { Redis } from 'ioredis'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  connectTransport,
  deleteNamespace,
  message,
  randomNamespace,
  record,
  sleep,
  subscribeOptions,
  waitFor,
} from './support.js'

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** A private, memory-only redis-server, so the shared one is never stopped. */
async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  )
  const probe = new Redis(port, '127.0.0.1', {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  })
  probe.on('error', () => {})
  const started = Date.now()
  for (;;) {
    try {
      await probe.connect()
      await probe.ping()
      probe.disconnect()
      return child
    } catch {
      probe.disconnect()
      if (Date.now() - started > 5000) throw new Error(`redis-server did not start on port ${port}`)
      await sleep(50)
    }
  }
}

async function stopRedis(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGKILL')
  await exited
}

describe('redis-streams faults', () => {
  let namespace: string
  let transports: Transport[]
  let servers: ChildProcess[]
  let proxy: TcpProxy | undefined

  beforeEach(() => {
    namespace = randomNamespace()
    transports = []
    servers = []
    proxy = undefined
  })

  afterEach(async () => {
    await Promise.allSettled(transports.map((transport) => transport.close()))
    await Promise.allSettled(servers.map(stopRedis))
    await proxy?.close()
    await deleteNamespace(namespace)
  })

  it('survives a Redis restart that lost every key: the group is recreated (NOGROUP) and consuming goes on', async () => {
    const port = await freePort()
    servers.push(await startRedis(port))
    const url = `redis://127.0.0.1:${port}`
    const transport = await connectTransport(namespace, { url, publishTimeoutMs: 10_000 })
    transports.push(transport)
    const { log } = await record(
      transport,
      subscribeOptions('ledger-post', ['payment.*'], { ackTimeoutMs: 500 }),
    )
    const before = Array.from({ length: 10 }, (_, i) => message('payment.captured', { i }))
    for (const m of before) await transport.publish(m)
    await waitFor(() => log.length === 10, 'events before the restart')

    await stopRedis(servers.pop()!)
    await sleep(200)
    servers.push(await startRedis(port)) // empty: no stream, no group

    const after = Array.from({ length: 10 }, (_, i) => message('payment.captured', { i: 100 + i }))
    for (const m of after) await transport.publish(m) // waits for the reconnect
    await waitFor(
      () => after.every((m) => log.some((r) => r.event.id === m.id)),
      'every event published after the restart',
      10_000,
    )
    const probe = new Redis(url)
    const groups = (await probe.xinfo('GROUPS', `{${namespace}}:events`)) as unknown[][]
    probe.disconnect()
    expect(groups.map((g) => String(g[1]))).toContain('ledger-post')
  })

  it('a connection cut mid-stream loses nothing', async () => {
    const target = new URL(process.env.TIDINGS_REDIS_URL ?? 'redis://127.0.0.1:6379')
    proxy = await createTcpProxy({ host: target.hostname, port: Number(target.port || 6379) })
    const url = `redis://${proxy.host}:${proxy.port}`
    const transport = await connectTransport(namespace, { url })
    transports.push(transport)
    const { log } = await record(
      transport,
      subscribeOptions('audit-log', ['audit.#'], { ackTimeoutMs: 1000, concurrency: 16 }),
      async (delivery) => {
        await sleep(1)
        await delivery.ack()
      },
    )
    const sent = Array.from({ length: 600 }, (_, i) => message('audit.recorded', { i }))
    const publishing: Promise<void>[] = []
    for (let i = 0; i < sent.length; i += 1) {
      publishing.push(transport.publish(sent[i]!))
      if (i % 50 === 49) await sleep(5)
      if (i === 300) proxy.cut()
    }
    await Promise.all(publishing)
    expect(proxy.connectionCount).toBeGreaterThan(2) // it did reconnect
    const ids = () => new Set(log.map((r) => r.event.id))
    await waitFor(() => sent.every((m) => ids().has(m.id)), 'every event after the cut', 15_000)
    expect(sent.filter((m) => !ids().has(m.id))).toEqual([])
  })
})
