import { AsyncLocalStorage } from 'node:async_hooks'
import {
  createBus,
  type Event,
  fixed,
  type HandleOutcome,
  type Interceptor,
  type Logger,
  MemoryBroker,
  memoryIdempotencyStore,
  memoryTransport,
  silentLogger,
} from '@tidings/core'
import { describe, expect, it } from 'vitest'

function newBus(interceptors: Interceptor[], logger: Logger = silentLogger) {
  return createBus({
    service: 'shop',
    transport: memoryTransport({ broker: new MemoryBroker() }),
    logger,
    interceptors,
  })
}

async function until(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
}

describe('interceptors', () => {
  it('run first-outermost around publish and handling, and what they add travels in the envelope', async () => {
    const order: string[] = []
    const named = (name: string): Interceptor => ({
      name,
      async publish(publish, next) {
        order.push(`${name}:publish:before`)
        publish.headers[name] = 'yes'
        if (name === 'outer') publish.traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
        const event = await next()
        order.push(`${name}:publish:after`)
        return event
      },
      async handle(_attempt, next) {
        order.push(`${name}:handle:before`)
        const outcome = await next()
        order.push(`${name}:handle:after:${outcome.kind}`)
        return outcome
      },
    })
    const bus = newBus([named('outer'), named('inner')])
    const seen: Event[] = []
    bus.listen('order.placed', (event) => void seen.push(event), { name: 'audit' })
    await bus.start()
    await bus.publish('order.placed', { n: 1 })
    await until(() => order.length === 8)
    // Delivery may begin before publish() returns (the broker already holds the event), so each
    // chain's order is checked on its own.
    expect(order.filter((step) => step.includes(':publish:'))).toEqual([
      'outer:publish:before',
      'inner:publish:before',
      'inner:publish:after',
      'outer:publish:after',
    ])
    expect(order.filter((step) => step.includes(':handle:'))).toEqual([
      'outer:handle:before',
      'inner:handle:before',
      'inner:handle:after:handled',
      'outer:handle:after:handled',
    ])
    expect(seen[0]!.headers).toEqual({ outer: 'yes', inner: 'yes' })
    expect(seen[0]!.traceparent).toBe('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')
    await bus.close()
  })

  it('see every outcome: handled, retry scheduled with its delay, dead-lettered, duplicate skipped', async () => {
    const outcomes: HandleOutcome[] = []
    const bus = newBus([
      {
        async handle(_attempt, next) {
          const outcome = await next()
          outcomes.push(outcome)
          return outcome
        },
      },
    ])
    bus.listen(
      'payment.captured',
      (event) => {
        if ((event.data as { fail: boolean }).fail) throw new Error('gateway down')
      },
      {
        name: 'ledger',
        retry: { maxAttempts: 2, backoff: fixed(5) },
        idempotency: { store: memoryIdempotencyStore() },
      },
    )
    await bus.start()
    await bus.publish('payment.captured', { fail: false }, { id: 'p-1' })
    await until(() => outcomes.length === 1)
    await bus.publish('payment.captured', { fail: false }, { id: 'p-1' })
    await until(() => outcomes.length === 2)
    await bus.publish('payment.captured', { fail: true }, { id: 'p-2' })
    await until(() => outcomes.length === 4)
    expect(outcomes.map((outcome) => outcome.kind)).toEqual([
      'handled',
      'duplicate-skipped',
      'retry-scheduled',
      'dead-lettered',
    ])
    expect(outcomes[2]).toMatchObject({ delayMs: 5, nextAttempt: 2 })
    expect(outcomes[3]).toMatchObject({ reason: expect.stringMatching(/exhausted/) })
    await bus.close()
  })

  it('fail the attempt when one throws before next(), and settle it exactly once', async () => {
    let calls = 0
    let attempts = 0
    const bus = newBus([
      {
        async handle(attempt, next) {
          attempts += 1
          if (attempt.attempt === 1) throw new Error('interceptor broke')
          return next()
        },
      },
    ])
    bus.listen(
      'stock.reserved',
      () => {
        calls += 1
      },
      {
        name: 'reserver',
        retry: { maxAttempts: 3, backoff: fixed(5) },
      },
    )
    const retries: number[] = []
    bus.on('retry-scheduled', ({ attempt }) => retries.push(attempt))
    await bus.start()
    await bus.publish('stock.reserved', {})
    await until(() => calls === 1)
    await new Promise((resolve) => setTimeout(resolve, 30))
    expect(retries).toEqual([1])
    expect(attempts).toBe(2)
    expect(await bus.deadLetters('shop-reserver').count()).toBe(0)
    await bus.close()
  })

  it('fail the attempt when one returns without calling next()', async () => {
    const reasons: string[] = []
    const bus = newBus([{ handle: async () => ({ kind: 'handled', durationMs: 0 }) }])
    let calls = 0
    bus.listen(
      'stock.reserved',
      () => {
        calls += 1
      },
      { name: 'reserver', retry: false },
    )
    bus.on('dead-lettered', ({ history }) => reasons.push(history[0]!.error.message))
    await bus.start()
    await bus.publish('stock.reserved', {})
    await until(() => reasons.length === 1)
    expect(calls).toBe(0)
    expect(reasons[0]).toMatch(/without calling next\(\)/)
    await bus.close()
  })

  it('keep the outcome when one throws after next(): logged, never settled twice', async () => {
    const errors: string[] = []
    const logger: Logger = { ...silentLogger, error: (_fields, message) => void errors.push(String(message)) }
    const bus = newBus(
      [
        {
          async handle(_attempt, next) {
            await next()
            throw new Error('metrics backend down')
          },
        },
      ],
      logger,
    )
    let calls = 0
    bus.listen(
      'stock.reserved',
      () => {
        calls += 1
      },
      { name: 'reserver', retry: { backoff: fixed(5) } },
    )
    await bus.start()
    await bus.publish('stock.reserved', {})
    await until(() => errors.length === 1)
    await new Promise((resolve) => setTimeout(resolve, 30))
    expect(calls).toBe(1)
    expect(errors[0]).toMatch(/after the attempt was settled/)
    await bus.close()
  })

  it('fail a publish with the error of one that throws before next(), sending nothing', async () => {
    const seen: Event[] = []
    const bus = newBus([
      {
        async publish(publish, next) {
          if (publish.type === 'order.refused') throw new Error('tenant missing')
          return next()
        },
      },
    ])
    bus.listen('order.*', (event) => void seen.push(event), { name: 'audit' })
    await bus.start()
    await expect(bus.publish('order.refused', {})).rejects.toThrow('tenant missing')
    await bus.publish('order.placed', {})
    await until(() => seen.length === 1)
    expect(seen.map((event) => event.type)).toEqual(['order.placed'])
    await bus.close()
  })

  it('resolve a publish whose interceptor throws after next(): the event was sent', async () => {
    const bus = newBus([
      {
        async publish(_publish, next) {
          await next()
          throw new Error('audit log down')
        },
      },
    ])
    const seen: Event[] = []
    bus.listen('order.placed', (event) => void seen.push(event), { name: 'audit' })
    await bus.start()
    const event = await bus.publish('order.placed', {})
    await until(() => seen.length === 1)
    expect(seen[0]!.id).toBe(event.id)
    await bus.close()
  })

  it('run the handler inside the async context an interceptor enters, and ctx.publish within it', async () => {
    const store = new AsyncLocalStorage<string>()
    const publishedIn: (string | undefined)[] = []
    const handledIn: (string | undefined)[] = []
    const bus = newBus([
      {
        publish: (publish, next) => {
          if (publish.type === 'shipment.created') publishedIn.push(store.getStore())
          return next()
        },
        handle: (attempt, next) => store.run(`span-of-${attempt.event.type}`, next),
      },
    ])
    bus.listen(
      'payment.captured',
      async (_event, ctx) => {
        await new Promise((resolve) => setTimeout(resolve, 1))
        handledIn.push(store.getStore())
        await ctx.publish('shipment.created', {})
      },
      { name: 'shipping' },
    )
    await bus.start()
    await bus.publish('payment.captured', {})
    await until(() => publishedIn.length === 1)
    expect(handledIn).toEqual(['span-of-payment.captured'])
    expect(publishedIn).toEqual(['span-of-payment.captured'])
    await bus.close()
  })

  it('are refused at createBus when they are not interceptors', () => {
    expect(() => newBus([{} as Interceptor])).toThrow(/publish\(publish, next\) and\/or handle/)
    expect(() => newBus('x' as unknown as Interceptor[])).toThrow(/must be an array/)
  })
})

describe('bus.health()', () => {
  it('answers a readiness probe from memory: connected, listeners subscribed, in flight, last success', async () => {
    const bus = newBus([])
    let release: () => void = () => {}
    bus.listen(
      'job.queued',
      () =>
        new Promise<void>((resolve) => {
          release = resolve
        }),
      { name: 'worker' },
    )
    expect(bus.health()).toMatchObject({ ok: false, state: 'idle', connected: false })
    await bus.start()
    await bus.publish('job.queued', {})
    await until(() => bus.health().listeners[0]!.inFlight === 1)
    const running = bus.health()
    expect(running).toMatchObject({ ok: true, state: 'started', transport: 'memory', connected: true })
    expect(running.listeners).toEqual([
      { group: 'shop-worker', subscribed: true, inFlight: 1, lastHandledAt: undefined },
    ])
    release()
    await until(() => bus.health().listeners[0]!.lastHandledAt !== undefined)
    expect(bus.health().listeners[0]!.inFlight).toBe(0)
    await bus.close()
    expect(bus.health()).toMatchObject({ ok: false, state: 'closed', connected: false })
  })
})
