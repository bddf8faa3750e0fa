import {
  type Bus,
  ConfigError,
  createBus,
  DuplicateListenerError,
  MemoryBroker,
  memoryTransport,
  PublishError,
  redactUrl,
  type StandardSchemaV1,
  silentLogger,
  type Transport,
  TransportClosedError,
  TransportNotInstalledError,
  ValidationError,
} from '@tidings/core'
import { describe, expect, it } from 'vitest'
import { transportFromUrl } from '../src/transport/resolve-url.js'

/** A minimal Standard Schema validator, as zod or valibot would provide. */
const positiveAmount: StandardSchemaV1<{ amount: number }> = {
  '~standard': {
    version: 1,
    vendor: 'test',
    validate: (value) =>
      typeof (value as { amount?: unknown })?.amount === 'number' && (value as { amount: number }).amount > 0
        ? { value: value as { amount: number } }
        : { issues: [{ message: 'amount must be a positive number', path: ['amount'] }] },
  },
}

describe('createBus', () => {
  it('validates its options with ConfigError messages that name the fix', () => {
    expect(() => createBus({ service: 'Bad Service', url: 'memory://' })).toThrow(/lowercase letters/)
    expect(() => createBus({ service: 'shop', url: 'ftp://x' })).toThrow(/scheme "ftp:" is unknown/)
    expect(() => createBus({ service: 'shop', url: 'not a url' })).toThrow(ConfigError)
    expect(() => createBus({ service: 'shop', transport: {} as never })).toThrow(/must be a Transport/)
    expect(() => createBus({ service: 'shop', url: 'memory://', drainTimeoutMs: -1 })).toThrow(
      /drainTimeoutMs/,
    )
    expect(() => createBus({ service: 'shop', url: 'memory://', defaults: { concurrency: -1 } })).toThrow(
      /concurrency/,
    )
    expect(() => createBus(null as never)).toThrow(ConfigError)
  })

  it('asks for a transport when neither url, transport nor TIDINGS_URL is given', () => {
    const saved = process.env.TIDINGS_URL
    delete process.env.TIDINGS_URL
    try {
      expect(() => createBus({ service: 'shop' })).toThrow(/TIDINGS_URL/)
    } finally {
      if (saved !== undefined) process.env.TIDINGS_URL = saved
    }
  })

  it('loads memory:// without any other package', async () => {
    const bus = createBus({ service: 'shop', url: 'memory://bus-test-ns' })
    const received: unknown[] = []
    bus.listen('order.placed', (event) => void received.push(event.data), { name: 'audit' })
    await bus.start()
    await bus.publish('order.placed', { n: 1 })
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(received).toEqual([{ n: 1 }])
    await bus.close()
  })

  it('tells the user which package to install for a transport that is missing', async () => {
    // What Node's import() throws in an app without the package (every package exists in this repository).
    const notInstalled = (packageName: string) =>
      Promise.reject(
        Object.assign(new Error(`Cannot find package '${packageName}' imported from /app/index.js`), {
          code: 'ERR_MODULE_NOT_FOUND',
        }),
      )
    const loading = transportFromUrl('nats://localhost:4222', notInstalled)
    await expect(loading).rejects.toBeInstanceOf(TransportNotInstalledError)
    await expect(loading).rejects.toThrow(/install @tidings\/transport-nats/)
  })

  it('never shows credentials in messages', () => {
    expect(redactUrl('amqp://user:secret@host:5672/vhost?token=t0k3n')).toBe('amqp://***@host:5672/vhost')
    expect(() => createBus({ service: 'shop', url: 'ftp://user:secret@host' })).toThrow(/^(?!.*secret)/)
  })

  it('validates payloads with Standard Schema on publish, before anything is sent', async () => {
    const broker = new MemoryBroker()
    const bus = createBus<{ 'payment.captured': { amount: number } }>({
      service: 'shop',
      transport: memoryTransport({ broker }),
      schemas: { 'payment.captured': positiveAmount },
      logger: silentLogger,
    })
    await expect(bus.publish('payment.captured', { amount: -1 })).rejects.toBeInstanceOf(ValidationError)
    await expect(bus.publish('payment.captured', { amount: -1 })).rejects.toThrow(
      /amount: amount must be a positive number/,
    )
    await expect(bus.publish('payment.captured', { amount: 3 })).resolves.toMatchObject({
      data: { amount: 3 },
    })
    await bus.close()
  })

  it('dead-letters a received event that fails its schema, without retrying', async () => {
    const broker = new MemoryBroker()
    const sender = createBus({
      service: 'legacy',
      transport: memoryTransport({ broker }),
      logger: silentLogger,
    })
    const receiver = createBus<{ 'payment.captured': { amount: number } }>({
      service: 'ledger',
      transport: memoryTransport({ broker }),
      schemas: { 'payment.captured': positiveAmount },
      logger: silentLogger,
    })
    let calls = 0
    const book = (): void => {
      calls += 1
    }
    receiver.listen('payment.captured', book, { name: 'book', retry: { maxAttempts: 1 } })
    await receiver.start()
    await sender.publish('payment.captured', { amount: 'lots' })
    await new Promise((resolve) => setTimeout(resolve, 20))
    const [letter] = await receiver.deadLetters('ledger-book').list()
    expect(calls).toBe(0)
    expect(letter!.history[0]!.error.name).toBe('ValidationError')
    await Promise.all([sender.close(), receiver.close()])
  })

  it('wraps a transport failure in PublishError', async () => {
    const transport = memoryTransport({ broker: new MemoryBroker() })
    transport.publish = async () => {
      throw new Error('socket hang up')
    }
    const bus = createBus({ service: 'shop', transport, logger: silentLogger })
    await expect(bus.publish('order.placed', {})).rejects.toBeInstanceOf(PublishError)
    await expect(bus.publish('order.placed', {})).rejects.toThrow(/socket hang up/)
  })

  it('subscribes a listener added to a running bus before its listen() resolves', async () => {
    const bus = createBus({ service: 'shop', transport: memoryTransport({ broker: new MemoryBroker() }) })
    await bus.start()
    const seen: unknown[] = []
    const late = bus.listen('a.b', (event) => void seen.push(event.data), { name: 'late' })
    await late
    await bus.publish('a.b', { n: 1 })
    await waitFor(() => seen.length === 1)
    expect(seen).toEqual([{ n: 1 }])
    expect(() => bus.listen('a.c', async () => {}, { name: 'late' })).toThrow(DuplicateListenerError)
    await bus.close()
  })

  it('stops one listener on its own, draining its handler, and frees its name', async () => {
    const bus = createBus({ service: 'shop', transport: memoryTransport({ broker: new MemoryBroker() }) })
    let finished = 0
    const seen: unknown[] = []
    const slow = bus.listen(
      'a.b',
      async () => {
        await new Promise((resolve) => setTimeout(resolve, 30))
        finished += 1
      },
      { name: 'slow' },
    )
    bus.listen('a.b', (event) => void seen.push(event.data), { name: 'other' })
    await bus.start()
    await bus.publish('a.b', { n: 1 })
    await waitFor(() => seen.length === 1)
    await slow.stop()
    expect(finished).toBe(1)
    expect(bus.listenerInfo.map((listener) => listener.name)).toEqual(['other'])
    await bus.publish('a.b', { n: 2 })
    await waitFor(() => seen.length === 2)
    expect(finished).toBe(1)
    await bus.listen('a.b', async () => {}, { name: 'slow' })
    await bus.close()
  })

  it('carries causation and correlation through ctx.publish', async () => {
    const broker = new MemoryBroker()
    const bus = createBus({ service: 'shop', transport: memoryTransport({ broker }), logger: silentLogger })
    const seen: { type: string; causationId?: string; correlationId?: string }[] = []
    bus.listen('order.placed', (_event, ctx) => ctx.publish('payment.requested', {}), { name: 'pay' })
    bus.listen('payment.requested', (event) => void seen.push(event), { name: 'audit' })
    await bus.start()
    const first = await bus.publish('order.placed', {})
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(seen[0]).toMatchObject({
      type: 'payment.requested',
      causationId: first.id,
      correlationId: first.id,
    })
    await bus.close()
  })
})

describe('lifecycle events', () => {
  it('say how long a failing handler ran, as they do for a handled one', async () => {
    const bus = createBus({
      service: 'shop',
      transport: memoryTransport({ broker: new MemoryBroker() }),
      logger: silentLogger,
    })
    const failures: { attempt: number; durationMs: number | undefined }[] = []
    bus.on('failed', ({ attempt, durationMs }) => void failures.push({ attempt, durationMs }))
    bus.listen(
      'order.placed',
      async () => {
        await new Promise((resolve) => setTimeout(resolve, 30))
        throw new Error('carrier API timed out')
      },
      { name: 'ship', retry: false },
    )
    await bus.start()
    await bus.publish('order.placed', {})
    while (failures.length === 0) await new Promise((resolve) => setTimeout(resolve, 5))
    expect(failures[0]!.attempt).toBe(1)
    expect(failures[0]!.durationMs).toBeGreaterThanOrEqual(25)
    await bus.close()
  })
})

describe('start and publish when the broker is not there', () => {
  it('rejects publish with PublishError when connecting fails, and lets start() be tried again', async () => {
    const broker = new MemoryBroker()
    const transport = memoryTransport({ broker })
    const realConnect = transport.connect.bind(transport)
    let down = true
    transport.connect = async (context) => {
      if (down) throw new Error('ECONNREFUSED 127.0.0.1:5672')
      return realConnect(context)
    }
    const bus = createBus({ service: 'shop', transport, logger: silentLogger })
    bus.listen('order.placed', async () => {}, { name: 'audit' })
    await expect(bus.publish('order.placed', {})).rejects.toBeInstanceOf(PublishError)
    await expect(bus.start()).rejects.toThrow(/ECONNREFUSED/)
    expect(bus.state).toBe('idle')
    down = false
    await bus.start()
    expect(bus.state).toBe('started')
    await bus.close()
  })
})

describe('every public entry point refuses bad input with a typed error', () => {
  it('dead-letter access, lifecycle subscriptions and the memory transport', async () => {
    const bus = createBus({ service: 'shop', transport: memoryTransport({ broker: new MemoryBroker() }) })
    expect(() => bus.deadLetters('Shipping Create')).toThrow(/"<service>-<listener>"/)
    await expect(bus.deadLetters('shop-audit').list({ limit: 0 })).rejects.toThrow(/limit/)
    await expect(bus.deadLetters('shop-audit').replay('some' as never)).rejects.toThrow(/'all'/)
    await expect(bus.deadLetters('shop-audit').replay([''])).rejects.toBeInstanceOf(ConfigError)
    expect(() => bus.on('handled', 42 as never)).toThrow(ConfigError)
    expect(() => memoryTransport({ maxMessageBytes: 0 })).toThrow(/maxMessageBytes/)
    expect(() => memoryTransport({ broker: {} as never })).toThrow(/MemoryBroker/)
    expect(() => bus.listen('a.b', 'not a function' as never, { name: 'x' })).toThrow(/handler function/)
    expect(() => bus.listen([], async () => {}, { name: 'x' })).toThrow(/at least one pattern/)
    expect(() => bus.listen('a.b', async () => {}, undefined as never)).toThrow(/needs an options object/)
    expect(() => bus.listen('a.b', async () => {}, { name: 'x', onError: 'ack' as never })).toThrow(/onError/)
    expect(() => bus.listen('a.b', async () => {}, { name: 'x', idempotency: {} as never })).toThrow(/store/)
    await expect(bus.publish('a.b', {}, { unknown: 1 } as never)).rejects.toThrow(/no option "unknown"/)
    await expect(bus.publish('a.b', {}, { headers: { id: 'x' } })).rejects.toThrow(/Tidings sets itself/)
    await expect(bus.sendToGroup('Shop Audit', {} as never)).rejects.toThrow(/"<service>-<listener>"/)
    await expect(bus.sendToGroup('shop-audit', 'order-1' as never)).rejects.toThrow(
      /needs the event as received or published/,
    )
    await bus.close()
    await expect(bus.inspectGroups()).rejects.toBeInstanceOf(TransportClosedError)
  })

  it('a journal must have attach(bus) and close()', () => {
    expect(() => createBus({ service: 'shop', url: 'memory://', journal: {} as never })).toThrow(
      /createBus\(\{ journal \}\) must have attach\(bus\) and close\(\)/,
    )
  })
})

describe('a journal given to createBus', () => {
  it('is attached when the bus is created and closed after the transport, when the bus closes', async () => {
    const calls: string[] = []
    const journal = {
      attach<Events extends object>(bus: Bus<Events>) {
        calls.push('attach')
        bus.on('handled', () => calls.push('handled'))
      },
      async close() {
        calls.push('close')
      },
    }
    const bus = createBus({
      service: 'shop',
      transport: memoryTransport({ broker: new MemoryBroker() }),
      journal,
    })
    expect(calls).toEqual(['attach'])
    const handled = new Promise<void>((resolve) =>
      bus.listen('order.placed', () => resolve(), { name: 'audit' }),
    )
    await bus.start()
    await bus.publish('order.placed', {})
    await handled
    await bus.close()
    expect(calls).toEqual(['attach', 'handled', 'close'])
  })

  it('a journal that fails to flush does not keep the bus from closing', async () => {
    const bus = createBus({
      service: 'shop',
      url: 'memory://',
      logger: silentLogger,
      journal: { attach() {}, close: () => Promise.reject(new Error('disk full')) },
    })
    await bus.close()
    expect(bus.state).toBe('closed')
  })
})

describe('core keeps the port contract even with a slow or generous transport', () => {
  it('never publishes through a transport whose connect() has not finished', async () => {
    const inner = memoryTransport({ broker: new MemoryBroker() })
    let ready = false
    const transport: Transport = {
      ...inner,
      name: inner.name,
      maxMessageBytes: inner.maxMessageBytes,
      connect: async (context) => {
        await new Promise((resolve) => setTimeout(resolve, 30))
        await inner.connect(context)
        ready = true
      },
      publish: (message) =>
        ready ? inner.publish(message) : Promise.reject(new Error('publish before connect')),
      subscribe: (options, onDelivery) => inner.subscribe(options, onDelivery),
      deadLetters: (group) => inner.deadLetters(group),
      sendToGroup: (group, message) => inner.sendToGroup(group, message),
      inspectGroups: () => inner.inspectGroups(),
      close: () => inner.close(),
    }
    const bus = createBus({ service: 'shop', transport, logger: silentLogger })
    await expect(Promise.all([1, 2, 3].map((n) => bus.publish('order.placed', { n })))).resolves.toHaveLength(
      3,
    )
    await bus.close()
  })

  it('bounds handlers by concurrency when a transport over-delivers, resolving each delivery only once settled', async () => {
    const inner = memoryTransport({ broker: new MemoryBroker() })
    const resolvedBeforeSettled: number[] = []
    const transport: Transport = {
      name: inner.name,
      maxMessageBytes: inner.maxMessageBytes,
      capabilities: inner.capabilities,
      connect: (context) => inner.connect(context),
      publish: (message) => inner.publish(message),
      // Ignores the listener's concurrency, as a misbehaving adapter might.
      subscribe: (options, onDelivery) =>
        inner.subscribe({ ...options, concurrency: 100 }, (delivery) => {
          let settled = false
          const ack = delivery.ack.bind(delivery)
          const tracked = Object.assign(Object.create(delivery), {
            ack: () => {
              settled = true
              return ack()
            },
          })
          return onDelivery(tracked).then(() => {
            if (!settled) resolvedBeforeSettled.push(1)
          })
        }),
      deadLetters: (group) => inner.deadLetters(group),
      sendToGroup: (group, message) => inner.sendToGroup(group, message),
      inspectGroups: () => inner.inspectGroups(),
      close: () => inner.close(),
    }
    const bus = createBus({ service: 'shop', transport, logger: silentLogger })
    let running = 0
    let peak = 0
    let done = 0
    bus.listen(
      'job.queued',
      async () => {
        running += 1
        peak = Math.max(peak, running)
        await new Promise((resolve) => setTimeout(resolve, 5))
        running -= 1
        done += 1
      },
      { name: 'worker', concurrency: 2 },
    )
    await bus.start()
    await Promise.all(Array.from({ length: 20 }, (_, n) => bus.publish('job.queued', { n })))
    const deadline = Date.now() + 3000
    while (done < 20 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5))
    expect(done).toBe(20)
    expect(peak).toBe(2)
    expect(resolvedBeforeSettled).toEqual([])
    await bus.close()
  })
})

async function waitFor(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
}
