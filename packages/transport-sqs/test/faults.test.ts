import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { type Bus, createBus, type Event, PublishError, silentLogger } from '@tidings/core'
import { sleep, waitUntil } from '@tidings/testkit'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type SqsTransportOptions, sqsTransport } from '../src/index.js'
import { FaultProxy, failEntries, snsError, sqsError } from './fault-proxy.js'
import { PrivateEmulator } from './private-emulator.js'
import { deleteNamespace, ENDPOINT, randomNamespace, testOptions } from './support.js'

const REPOSITORY_ROOT = fileURLToPath(new URL('../../..', import.meta.url))

describe('sqs faults', () => {
  let namespace = ''
  let cleanup: (() => Promise<unknown>)[] = []
  const unhandled: unknown[] = []
  const onUnhandled = (reason: unknown) => unhandled.push(reason)

  beforeEach(() => {
    namespace = randomNamespace()
    cleanup = []
    unhandled.length = 0
    process.on('unhandledRejection', onUnhandled)
  })
  afterEach(async () => {
    process.off('unhandledRejection', onUnhandled)
    for (const step of cleanup.reverse()) await step().catch(() => {})
    await deleteNamespace(namespace)
  })

  function bus(service: string, options: Partial<SqsTransportOptions> = {}): Bus {
    const created = createBus({
      service,
      logger: silentLogger,
      transport: sqsTransport(testOptions(namespace, options)),
    })
    cleanup.push(() => created.close())
    return created
  }

  async function listening(
    service: string,
    options: Partial<SqsTransportOptions> = {},
    ackTimeoutMs = 30_000,
  ) {
    const seen: Event[] = []
    const subscriber = bus(service, options)
    subscriber.listen('payment.*', (event) => void seen.push(event), { name: 'post', ackTimeoutMs })
    await subscriber.start()
    return { subscriber, seen, ids: () => new Set(seen.map((event) => event.id)) }
  }

  it('redelivers to another process after ackTimeoutMs when a subscriber process is killed with SIGKILL mid-handler', async () => {
    const holder = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--conditions=@tidings/source',
        fileURLToPath(new URL('./fixtures/hold-forever.ts', import.meta.url)),
        ENDPOINT,
        namespace,
      ],
      { cwd: REPOSITORY_ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
    )
    let output = ''
    holder.stdout!.on('data', (chunk) => {
      output += String(chunk)
    })
    cleanup.push(async () => {
      if (holder.exitCode === null && holder.signalCode === null) holder.kill('SIGKILL')
    })
    await waitUntil(() => output.includes('ready'), {
      timeoutMs: 20_000,
      what: 'the subscriber process to start',
    })
    const publisher = bus('payments')
    const sent = await publisher.publish('payment.captured', { cents: 5 })
    await waitUntil(() => output.includes(`holding ${sent.id}`), {
      timeoutMs: 10_000,
      what: 'the subscriber to hold the event',
    })
    // Held for longer than the visibility timeout: the holder's lease renewals kept it hidden.
    await sleep(1500)
    const killed = new Promise((resolve) => holder.once('exit', resolve))
    holder.kill('SIGKILL')
    await killed
    const killedAt = performance.now()

    const handled: { id: string; attempt: number; redelivered: boolean }[] = []
    const survivor = bus('ledger')
    survivor.listen(
      'payment.captured',
      (event, context) =>
        void handled.push({ id: event.id, attempt: context.attempt, redelivered: context.redelivered }),
      { name: 'post', ackTimeoutMs: 1000 },
    )
    await survivor.start()
    await waitUntil(() => handled.length >= 1, { timeoutMs: 10_000, what: 'the redelivery' })
    expect(handled[0]).toEqual({ id: sent.id, attempt: 2, redelivered: true })
    // Visibility timeout (1 s, whole seconds) plus a long poll of 1 s and scheduling slack.
    expect(performance.now() - killedAt).toBeLessThan(1000 + 1000 + 2000)
  })

  it('bridges an endpoint stopped and started again during publishing: publishes wait and succeed or reject with PublishError, consumers resume, nothing unhandled', async () => {
    const emulator = await PrivateEmulator.start()
    cleanup.push(() => emulator.stop())
    const endpoint = emulator.endpoint
    const { subscriber, ids } = await listening('ledger', { endpoint })
    cleanup.push(() => subscriber.close())
    const patient = bus('payments', { endpoint, publishTimeoutMs: 20_000 })
    const impatient = bus('refunds', { endpoint, publishTimeoutMs: 500 })
    await Promise.all([patient.start(), impatient.start()])

    const before = await Promise.all(
      Array.from({ length: 10 }, (_, i) => patient.publish('payment.captured', { i })),
    )
    await waitUntil(() => before.every((event) => ids().has(event.id)), {
      timeoutMs: 10_000,
      what: 'events before the outage',
    })

    await emulator.stop()
    const bridging = Array.from({ length: 5 }, (_, i) => patient.publish('payment.captured', { i: 100 + i }))
    await expect(impatient.publish('payment.refunded', { lost: true })).rejects.toBeInstanceOf(PublishError)
    await sleep(1000)
    await emulator.resume()

    const during = await Promise.all(bridging) // resolved after the restart, never hung
    const after = await Promise.all(
      Array.from({ length: 5 }, (_, i) => patient.publish('payment.captured', { i: 200 + i })),
    )
    await waitUntil(() => [...during, ...after].every((event) => ids().has(event.id)), {
      timeoutMs: 15_000,
      what: 'every event published during and after the outage',
    })
    expect(unhandled).toEqual([])
  })

  it('rejects only the publish whose batch entry SNS refused, and delivers the rest of the batch', async () => {
    const proxy = await FaultProxy.start(ENDPOINT)
    cleanup.push(() => proxy.close())
    const refused = { failed: 0 }
    proxy.use(failEntries('refuse-me', { code: 'InvalidParameter', senderFault: true }, refused))
    const { ids } = await listening('ledger')
    const publisher = bus('payments', { endpoint: proxy.endpoint })
    await publisher.start()

    // One tick: one PublishBatch of ten entries.
    const outcomes = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) =>
        publisher.publish('payment.captured', { i, note: i === 3 ? 'refuse-me' : 'fine' }),
      ),
    )
    expect(refused.failed).toBe(1)
    expect(proxy.actions.filter((action) => action === 'PublishBatch')).toHaveLength(1)
    const rejected = outcomes.flatMap((outcome, i) =>
      outcome.status === 'rejected' ? [[i, outcome.reason]] : [],
    )
    expect(rejected).toHaveLength(1)
    expect(rejected[0]![0]).toBe(3)
    expect(rejected[0]![1]).toBeInstanceOf(PublishError)
    expect((rejected[0]![1] as Error).message).toMatch(
      /SNS refused "payment\.captured".*InvalidParameter.*not published/,
    )
    const published = outcomes.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []))
    await waitUntil(() => published.every((event) => ids().has(event.id)), {
      timeoutMs: 10_000,
      what: 'the nine accepted events',
    })
  })

  it('sends again, alone, an entry SNS failed on its side (throttled), and the publish succeeds', async () => {
    const proxy = await FaultProxy.start(ENDPOINT)
    cleanup.push(() => proxy.close())
    const throttled = { failed: 0, limit: 2 }
    proxy.use(failEntries('throttle-me', { code: 'Throttled', senderFault: false }, throttled))
    const { ids, seen } = await listening('ledger')
    const publisher = bus('payments', { endpoint: proxy.endpoint })
    await publisher.start()

    const events = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        publisher.publish('payment.captured', { i, note: i === 7 ? 'throttle-me' : 'fine' }),
      ),
    )
    expect(throttled.failed).toBe(2) // failed twice, then accepted
    await waitUntil(() => events.every((event) => ids().has(event.id)), {
      timeoutMs: 10_000,
      what: 'all ten events',
    })
    await sleep(300)
    expect(seen).toHaveLength(10) // the nine that went through the first time were not sent again
  })

  it('rides out SNS throttling of whole requests, and rejects with PublishError naming publishTimeoutMs when it outlasts it', async () => {
    const proxy = await FaultProxy.start(ENDPOINT)
    cleanup.push(() => proxy.close())
    let throttleNext = 3
    proxy.use((action) =>
      action === 'PublishBatch' && throttleNext-- > 0
        ? { answer: { status: 400, body: snsError('Throttling', 'Rate exceeded') } }
        : undefined,
    )
    const { ids } = await listening('ledger')
    const publisher = bus('payments', { endpoint: proxy.endpoint })
    await publisher.start()
    const events = await Promise.all(
      Array.from({ length: 5 }, (_, i) => publisher.publish('payment.captured', { i })),
    )
    expect(throttleNext).toBeLessThan(0) // every throttled answer was met
    await waitUntil(() => events.every((event) => ids().has(event.id)), {
      timeoutMs: 10_000,
      what: 'the throttled events',
    })

    throttleNext = Number.POSITIVE_INFINITY
    const impatient = bus('refunds', { endpoint: proxy.endpoint, publishTimeoutMs: 400 })
    await impatient.start()
    const failure = impatient.publish('payment.refunded', { cents: 1 })
    await expect(failure).rejects.toBeInstanceOf(PublishError)
    await expect(failure).rejects.toThrow(/publishTimeoutMs=400/)
  })

  it('goes on receiving after SQS throttles its polls and its deletes', async () => {
    const proxy = await FaultProxy.start(ENDPOINT)
    cleanup.push(() => proxy.close())
    const throttled = { ReceiveMessage: 3, DeleteMessageBatch: 3 }
    proxy.use((action) => {
      if (action !== 'ReceiveMessage' && action !== 'DeleteMessageBatch') return undefined
      return throttled[action]-- > 0 ? sqsError('ThrottlingException', 'Rate exceeded') : undefined
    })
    // A visibility timeout of 1 s: a delete that never happened shows as a second delivery soon.
    // The SDK's own retries are off (and its back-off on throttling, 500 ms and up, would outlast
    // the visibility timeout): Tidings sends a throttled delete again itself.
    const { subscriber, seen } = await listening(
      'ledger',
      { endpoint: proxy.endpoint, clientConfig: { maxAttempts: 1 } },
      1000,
    )
    const publisher = bus('payments')
    const events = await Promise.all(
      Array.from({ length: 5 }, (_, i) => publisher.publish('payment.captured', { i })),
    )
    await waitUntil(() => events.every((event) => seen.some((each) => each.id === event.id)), {
      timeoutMs: 15_000,
      what: 'the events behind throttled polls',
    })
    expect(throttled.ReceiveMessage).toBeLessThan(0)
    await waitUntil(() => throttled.DeleteMessageBatch < 0, { what: 'the throttled deletes to be met' })
    // Acknowledged in the end: nothing comes back once the visibility timeout has passed, to this
    // process or to another.
    await sleep(2500)
    expect(seen).toHaveLength(5)
    await subscriber.close()
    const { seen: again } = await listening('ledger', {}, 1000)
    await sleep(1500)
    expect(again).toEqual([])
  })
})
