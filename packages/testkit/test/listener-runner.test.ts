import {
  ConfigError,
  CrashLoopError,
  exponential,
  fixed,
  HandlerTimeoutError,
  type Logger,
  MemoryBroker,
  memoryTransport,
  RetryLater,
} from '@tidings/core'
import type { Transport, TransportCapabilities } from '@tidings/core/transport'
import { createTestBus, ManualClock } from '@tidings/testkit'
import { describe, expect, it } from 'vitest'

/**
 * The listener runner (core) driven by the manual clock: deadlines, lease renewal, failure times and
 * retry delays all read the one injected clock, so these tests wait on facts, never on time.
 */
describe('listener runner on an injected clock', () => {
  it('fails an attempt at its deadline, aborts ctx.signal and records the failure at clock time', async () => {
    const clock = new ManualClock()
    const { bus, recorded, waitFor } = createTestBus({ service: 'video', clock })
    let aborted: unknown
    bus.listen(
      'video.uploaded',
      (_event, ctx) =>
        new Promise<void>(() => {
          ctx.signal.addEventListener('abort', () => {
            aborted = ctx.signal.reason
          })
        }),
      { name: 'transcoder', timeoutMs: 5_000, retry: false },
    )
    await bus.start()
    await bus.publish('video.uploaded', {})
    await waitFor('video.uploaded', { kind: 'published' })
    await clock.advance(4_999)
    expect(recorded.failed).toHaveLength(0)
    await clock.advance(1)
    await waitFor('video.uploaded', { kind: 'dead-lettered' })
    expect(aborted).toBeInstanceOf(HandlerTimeoutError)
    const [letter] = recorded.deadLettered
    expect(letter!.history[0]!.error.name).toBe('HandlerTimeoutError')
    expect(letter!.history[0]!.at).toBe(new Date(clock.now()).toISOString())
    await bus.close()
  })

  it('renews the lease of a handler that runs past ackTimeoutMs, so no other process gets its event', async () => {
    const clock = new ManualClock()
    const broker = new MemoryBroker({ clock })
    const slow = createTestBus({ service: 'report', clock, broker })
    const peer = createTestBus({ service: 'report', clock, broker })
    const calls: string[] = []
    let finish: () => void = () => {}
    slow.bus.listen(
      'report.requested',
      () =>
        new Promise<void>((resolve) => {
          calls.push('slow')
          finish = resolve
        }),
      { name: 'reports', ackTimeoutMs: 1_000, timeoutMs: 60_000 },
    )
    peer.bus.listen('report.requested', () => void calls.push('peer'), {
      name: 'reports',
      ackTimeoutMs: 1_000,
    })
    await slow.bus.start()
    await slow.bus.publish('report.requested', {})
    await slow.waitFor('report.requested', { kind: 'published' })
    await peer.bus.start()
    await clock.advance(10_000) // ten lease lengths
    expect(calls).toEqual(['slow'])
    finish()
    await slow.waitFor('report.requested')
    await clock.advance(5_000)
    expect(calls).toEqual(['slow'])
    await Promise.all([slow.bus.close(), peer.bus.close()])
  })

  it('dead-letters a delivery whose broker count passed maxAttempts with a CrashLoopError', async () => {
    const { bus, recorded, broker, waitFor } = createTestBus({ service: 'pay' })
    const calls: number[] = []
    bus.listen('payment.captured', (_event, ctx) => void calls.push(ctx.attempt), {
      name: 'ledger',
      retry: { maxAttempts: 3 },
    })
    await bus.start()
    const published = await bus.publish('payment.captured', {}, { id: 'evt-1' })
    await waitFor('payment.captured')
    // The same event again, as a broker hands back what crashed processes held 5 times over.
    const group = broker.group('pay-ledger')!
    broker.enqueue(group, {
      text: JSON.stringify({ ...published, specversion: '1.0', datacontenttype: 'application/json' }),
      attempt: 6,
      history: [],
      redelivered: true,
    })
    await waitFor('payment.captured', { kind: 'dead-lettered' })
    expect(calls).toEqual([1])
    expect(recorded.deadLettered[0]!.reason).toBe('crash loop')
    expect(recorded.deadLettered[0]!.history.at(-1)!.error.name).toBe(new CrashLoopError(6, 3).name)
    await bus.close()
  })

  it('drops an exhausted event with an error log when deadLetter is false', async () => {
    const errors: string[] = []
    const logger = recordingLogger(errors)
    const { bus, broker, waitFor } = createTestBus({ service: 'mail', logger })
    bus.listen(
      'mail.requested',
      () => {
        throw new Error('smtp down')
      },
      { name: 'mailer', retry: false, deadLetter: false },
    )
    await bus.start()
    await bus.publish('mail.requested', {})
    await waitFor('mail.requested', { kind: 'failed' })
    await waitUntilTrue(() => errors.length > 0)
    expect(errors.join('\n')).toMatch(/dead-lettering is off/)
    expect(broker.group('mail-mailer')!.deadLetters).toHaveLength(0)
    expect(broker.group('mail-mailer')!.queue.length).toBe(0)
    await bus.close()
  })

  it('applies the retry policy when the onError hook throws, and logs the hook failure', async () => {
    const errors: string[] = []
    const clock = new ManualClock()
    const { bus, recorded, waitFor } = createTestBus({
      service: 'cache',
      clock,
      logger: recordingLogger(errors),
    })
    bus.listen(
      'cache.invalidated',
      () => {
        throw new Error('node unreachable')
      },
      {
        name: 'cache',
        retry: { maxAttempts: 2, backoff: fixed(100) },
        onError: () => {
          throw new Error('hook bug')
        },
      },
    )
    await bus.start()
    await bus.publish('cache.invalidated', {})
    await waitFor('cache.invalidated', { kind: 'failed' })
    await clock.advance(100)
    await waitFor('cache.invalidated', { kind: 'dead-lettered' })
    expect(recorded.retried.map((retry) => retry.delayMs)).toEqual([100])
    expect(errors.join('\n')).toMatch(/onError hook threw/)
    await bus.close()
  })

  it('abandons a handler still running at the drain deadline: its late outcome settles nothing', async () => {
    const broker = new MemoryBroker()
    const first = createTestBus({ service: 'backup', broker, drainTimeoutMs: 20 })
    let finish: () => void = () => {}
    first.bus.listen('backup.requested', () => new Promise<void>((resolve) => (finish = resolve)), {
      name: 'backup',
    })
    await first.bus.start()
    await first.bus.publish('backup.requested', {})
    await first.waitFor('backup.requested', { kind: 'published' })
    await waitUntilTrue(() => broker.group('backup-backup')!.consumers[0]!.inFlight === 1)
    await first.bus.close()
    finish() // too late: the broker took the event back when the bus closed
    const second = createTestBus({ service: 'backup', broker })
    const attempts: number[] = []
    second.bus.listen('backup.requested', (_event, ctx) => void attempts.push(ctx.attempt), {
      name: 'backup',
    })
    await second.bus.start()
    await second.waitFor('backup.requested')
    expect(attempts).toEqual([2])
    await second.bus.close()
  })
})

describe('transport limits acted on once, in core', () => {
  it('refuses at start a back-off whose longest delay the transport cannot schedule', async () => {
    const transport = withCapabilities(memoryTransport({ broker: new MemoryBroker() }), { maxDelayMs: 1_000 })
    const { createBus } = await import('@tidings/core')
    const bus = createBus({ service: 'quote', transport })
    bus.listen('quote.requested', () => {}, {
      name: 'quoter',
      retry: { backoff: exponential({ initialMs: 100, maxMs: 5_000 }) },
    })
    const failure = bus.start()
    await expect(failure).rejects.toBeInstanceOf(ConfigError)
    await expect(failure).rejects.toThrow(/at most 1000 ms: lower the back-off's maxMs/)
    await bus.close()
  })

  it('dead-letters a RetryLater beyond the maximum delay with the reason', async () => {
    const transport = withCapabilities(memoryTransport({ broker: new MemoryBroker() }), { maxDelayMs: 1_000 })
    const { createBus } = await import('@tidings/core')
    const bus = createBus({ service: 'quote', transport })
    const reasons: string[] = []
    bus.on('dead-lettered', ({ reason }) => reasons.push(reason))
    bus.listen(
      'quote.requested',
      () => {
        throw new RetryLater(5_000)
      },
      { name: 'quoter', retry: { backoff: fixed(10) } },
    )
    await bus.start()
    await bus.publish('quote.requested', {})
    await waitUntilTrue(() => reasons.length === 1)
    expect(reasons[0]).toMatch(/retry delay of 5000 ms is over the 1000 ms this transport can schedule/)
    await bus.close()
  })

  it('fits the history to the transport budget, keeping the newest failure', async () => {
    const transport = withCapabilities(memoryTransport({ broker: new MemoryBroker() }), { historyBytes: 600 })
    const { createBus } = await import('@tidings/core')
    const bus = createBus({ service: 'stock', transport })
    const histories: { attempt: number; message: string }[][] = []
    bus.on('dead-lettered', ({ history }) =>
      histories.push(
        history.map((failure) => ({ attempt: failure.attempt, message: failure.error.message })),
      ),
    )
    bus.listen(
      'stock.reserved',
      (_event, ctx) => {
        throw new Error(`warehouse ${ctx.attempt} ${'x'.repeat(150)}`)
      },
      { name: 'reserver', retry: { maxAttempts: 6, backoff: fixed(1) } },
    )
    await bus.start()
    await bus.publish('stock.reserved', {})
    await waitUntilTrue(() => histories.length === 1)
    const history = histories[0]!
    expect(Buffer.byteLength(JSON.stringify(history))).toBeLessThanOrEqual(600)
    expect(history.at(-1)!.attempt).toBe(6)
    expect(history.length).toBeLessThan(6)
    await bus.close()
  })
})

function withCapabilities(transport: Transport, changes: Partial<TransportCapabilities>): Transport {
  const capabilities = { ...transport.capabilities, ...changes }
  return new Proxy(transport, {
    get(target, property) {
      if (property === 'capabilities') return capabilities
      const value: unknown = Reflect.get(target, property, target)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}

function recordingLogger(errors: string[]): Logger {
  const logger: Logger = {
    debug: () => {},
    info: () => {},
    warn: () => {},
    error: (_fields: unknown, message?: string) => void errors.push(String(message)),
    child: () => logger,
  }
  return logger
}

async function waitUntilTrue(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 1))
  }
}
