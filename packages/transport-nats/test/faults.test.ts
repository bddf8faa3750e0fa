import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { createBus, PublishError, silentLogger } from '@tidings/core'
import { sleep, waitUntil } from '@tidings/testkit'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type NatsTransport, natsTransport } from '../src/index.js'
import { PrivateNatsServer } from './private-server.js'
import {
  connectTransport,
  deleteNamespace,
  message,
  NATS_URL,
  randomNamespace,
  record,
  subscribeOptions,
  testOptions,
} from './support.js'

const REPOSITORY_ROOT = fileURLToPath(new URL('../../..', import.meta.url))

describe('nats faults', () => {
  let namespace: string
  let transports: NatsTransport[]
  let servers: PrivateNatsServer[]
  let closing: (() => Promise<void>)[] = []

  beforeEach(() => {
    closing = []
    namespace = randomNamespace()
    transports = []
    servers = []
  })

  afterEach(async () => {
    await Promise.allSettled(closing.map((close) => close()))
    await Promise.allSettled(transports.map((transport) => transport.close()))
    await Promise.allSettled(servers.map((server) => server.dispose()))
    await deleteNamespace(namespace)
  })

  async function open(
    url: string,
    options: Parameters<typeof connectTransport>[1] = {},
  ): Promise<NatsTransport> {
    const transport = await connectTransport(namespace, {
      url,
      connectionOptions: { reconnectTimeWait: 100, reconnectJitter: 20 },
      ...options,
    })
    transports.push(transport)
    return transport
  }

  it('loses nothing confirmed when the server is killed and restarted on the same store; consumers resume and publishes bridge the outage', async () => {
    const server = await PrivateNatsServer.start()
    servers.push(server)
    const transport = await open(server.url, { publishTimeoutMs: 15_000 })
    const impatient = await open(server.url, { publishTimeoutMs: 300 })
    const { log } = await record(
      transport,
      subscribeOptions('ledger-post', ['payment.*'], { ackTimeoutMs: 1000 }),
    )
    // Confirmed while a second group is down: they must survive the crash in the stream.
    await transport
      .subscribe(subscribeOptions('audit-log', ['payment.*']), async () => {})
      .then((s) => s.stop())
    const before = Array.from({ length: 20 }, (_, i) => message('payment.captured', { i }))
    for (const m of before) await transport.publish(m)
    await waitUntil(() => log.length >= 20, { timeoutMs: 10_000, what: 'events before the crash' })

    await server.stop('SIGKILL')
    const during = Array.from({ length: 5 }, (_, i) => message('payment.captured', { i: 100 + i }))
    const bridging = during.map((m) => transport.publish(m))
    const rejected = impatient.publish(message('payment.captured', { lost: true }))
    await expect(rejected).rejects.toBeInstanceOf(PublishError)
    await sleep(500)
    await server.start()

    await Promise.all(bridging) // resolved after the restart, never hung
    const after = Array.from({ length: 5 }, (_, i) => message('payment.captured', { i: 200 + i }))
    for (const m of after) await transport.publish(m)
    const ids = () => new Set(log.map((r) => r.event.id))
    await waitUntil(() => [...during, ...after].every((m) => ids().has(m.id)), {
      timeoutMs: 15_000,
      what: 'every event published during and after the outage',
    })
    // The group that was down holds every confirmed event, crash or not.
    const audit = await record(transport, subscribeOptions('audit-log', ['payment.*']))
    await waitUntil(() => audit.log.length >= 30, {
      timeoutMs: 10_000,
      what: 'the stored events of the stopped group',
    })
    expect(new Set(audit.log.map((r) => r.event.id))).toEqual(
      new Set([...before, ...during, ...after].map((m) => m.id)),
    )
  })

  it('redelivers to another process after ackTimeoutMs when a subscriber process is killed with SIGKILL mid-handler', async () => {
    const holder = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--conditions=@tidings/source',
        fileURLToPath(new URL('./fixtures/hold-forever.ts', import.meta.url)),
        NATS_URL,
        namespace,
      ],
      { cwd: REPOSITORY_ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
    )
    let output = ''
    holder.stdout!.on('data', (chunk) => {
      output += String(chunk)
    })
    try {
      await waitUntil(() => output.includes('ready'), {
        timeoutMs: 20_000,
        what: 'the subscriber process to start',
      })
      const publisher = createBus({
        service: 'payments',
        logger: silentLogger,
        transport: natsTransport(testOptions(namespace)),
      })
      closing.push(() => publisher.close())
      const sent = await publisher.publish('payment.captured', { cents: 5 })
      await waitUntil(() => output.includes(`holding ${sent.id}`), {
        timeoutMs: 10_000,
        what: 'the subscriber to hold the event',
      })
      const killed = new Promise((resolve) => holder.once('exit', resolve))
      holder.kill('SIGKILL')
      await killed
      const killedAt = performance.now()

      const survivor = await open(NATS_URL)
      const { log } = await record(
        survivor,
        subscribeOptions('ledger-post', ['payment.captured'], { ackTimeoutMs: 1000 }),
      )
      await waitUntil(() => log.length >= 1, { timeoutMs: 10_000, what: 'the redelivery' })
      expect(log[0]!.event.id).toBe(sent.id)
      expect(log[0]!.delivery.redelivered).toBe(true)
      expect(log[0]!.delivery.attempt).toBe(2)
      expect(performance.now() - killedAt).toBeLessThan(1000 + 2000)
    } finally {
      if (holder.exitCode === null && holder.signalCode === null) holder.kill('SIGKILL')
    }
  })
})
