import { SpanKind, SpanStatusCode } from '@opentelemetry/api'
import { runShopScenario } from '@tidings/cli/demo'
import {
  type Bus,
  createBus,
  fixed,
  MemoryBroker,
  memoryTransport,
  silentLogger,
  type Transport,
} from '@tidings/core'
import { redisStreamsTransport } from '@tidings/transport-redis-streams'
import { afterEach, describe, expect, it } from 'vitest'
import { openTelemetry } from '../src/index.js'
import { parentOf, spanTree, telemetry } from './support.js'

const REDIS_URL = process.env.TIDINGS_REDIS_URL ?? 'redis://127.0.0.1:6379'

let sdk: ReturnType<typeof telemetry>
const buses: Bus[] = []
afterEach(async () => {
  await Promise.allSettled(buses.map((bus) => bus.close()))
  buses.length = 0
  await sdk?.shutdown()
})

async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

const transports: Record<string, { system: string; make: () => Transport }> = {
  memory: { system: 'memory', make: () => memoryTransport({ broker: new MemoryBroker() }) },
  'redis-streams': {
    system: 'redis',
    make: () =>
      redisStreamsTransport({
        url: REDIS_URL,
        namespace: `otel${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`,
        blockMs: 200,
        delayedPollMs: 10,
      }),
  },
}

for (const [name, { system, make }] of Object.entries(transports)) {
  describe(`OpenTelemetry interceptor on ${name}`, () => {
    it('traces publish → handle → retry → dead letter as one trace, with conventions, parentage and metrics', async () => {
      sdk = telemetry()
      const bus = createBus({
        service: 'shipping',
        transport: make(),
        logger: silentLogger,
        interceptors: [
          openTelemetry({ tracerProvider: sdk.tracerProvider, meterProvider: sdk.meterProvider }),
        ],
      })
      buses.push(bus)
      let deadLettered = false
      bus.on('dead-lettered', () => {
        deadLettered = true
      })
      bus.listen(
        'payment.captured',
        async (_event, ctx) => {
          await sdk.tracer.startActiveSpan('carrier.book', async (span) => {
            span.end()
          })
          if (ctx.attempt === 1) await ctx.publish('shipment.requested', { attempt: ctx.attempt })
          throw new Error(`carrier down on attempt ${ctx.attempt}`)
        },
        { name: 'create-shipment', retry: { maxAttempts: 2, backoff: fixed(20) } },
      )
      await bus.start()
      const sent = await bus.publish('payment.captured', { orderId: 'o-1' })
      await until(() => deadLettered)
      await until(
        () => sdk.finishedSpans().filter((span) => span.name === 'process payment.captured').length === 2,
      )

      const spans = sdk.finishedSpans()
      const producer = spans.find((span) => span.name === 'send payment.captured')!
      const consumers = spans.filter((span) => span.name === 'process payment.captured')
      const ownSpans = spans.filter((span) => span.name === 'carrier.book')
      const followUp = spans.find((span) => span.name === 'send shipment.requested')!

      expect(producer.kind).toBe(SpanKind.PRODUCER)
      expect(producer.attributes).toMatchObject({
        'messaging.system': system,
        'messaging.operation.type': 'send',
        'messaging.destination.name': 'payment.captured',
        'messaging.message.id': sent.id,
      })
      expect(consumers.map((span) => span.kind)).toEqual([SpanKind.CONSUMER, SpanKind.CONSUMER])
      for (const consumer of consumers) {
        expect(consumer.spanContext().traceId).toBe(producer.spanContext().traceId)
        expect(parentOf(consumer)).toBe(producer.spanContext().spanId)
        expect(consumer.status.code).toBe(SpanStatusCode.ERROR)
        expect(consumer.attributes).toMatchObject({
          'messaging.system': system,
          'messaging.operation.type': 'process',
          'messaging.consumer.group.name': 'shipping-create-shipment',
          'messaging.message.id': sent.id,
        })
        expect(consumer.attributes['messaging.message.body.size']).toBeGreaterThan(50)
        expect(consumer.events.map((event) => event.name)).toContain('exception')
      }
      expect(consumers.map((span) => span.attributes['messaging.tidings.attempt'])).toEqual([1, 2])
      expect(consumers.map((span) => span.attributes['messaging.tidings.outcome'])).toEqual([
        'retry-scheduled',
        'dead-lettered',
      ])
      // The handler's own spans and ctx.publish are children of the attempt's consumer span.
      expect(ownSpans.map(parentOf).sort()).toEqual(consumers.map((span) => span.spanContext().spanId).sort())
      expect(parentOf(followUp)).toBe(consumers[0]!.spanContext().spanId)
      expect(followUp.spanContext().traceId).toBe(producer.spanContext().traceId)

      const group = { 'messaging.consumer.group.name': 'shipping-create-shipment' }
      expect(await sdk.metric('messaging.client.sent.messages')).toEqual(
        expect.arrayContaining([
          {
            value: 1,
            attributes: { 'messaging.system': system, 'messaging.destination.name': 'payment.captured' },
          },
        ]),
      )
      expect(await sdk.metric('messaging.client.consumed.messages')).toEqual([
        { value: 2, attributes: expect.objectContaining(group) },
      ])
      expect(await sdk.metric('tidings.retries.scheduled')).toEqual([
        { value: 1, attributes: expect.objectContaining(group) },
      ])
      expect(await sdk.metric('tidings.dead_letters')).toEqual([
        { value: 1, attributes: expect.objectContaining(group) },
      ])
      const durations = await sdk.metric('messaging.process.duration')
      expect((durations[0]!.value as { count: number }).count).toBe(2)
      for (const point of await sdk.metric('messaging.client.consumed.messages'))
        expect(Object.keys(point.attributes)).not.toContain('messaging.message.id') // bounded cardinality
    })
  })
}

describe('the shop demo, traced', () => {
  it('prints the span tree of one order through three services', async () => {
    sdk = telemetry()
    await runShopScenario({
      url: `memory://otel-shop-${Date.now()}`,
      interceptors: [openTelemetry({ tracerProvider: sdk.tracerProvider, meterProvider: sdk.meterProvider })],
    })
    const tree = spanTree(sdk.finishedSpans())
    console.log(`span tree of the shop demo:\n${tree}`)
    expect(tree).toContain(
      [
        'send order.placed',
        '  process order.placed  group=payment-capture attempt=1 → handled',
        '    send payment.captured',
      ].join('\n'),
    )
    expect(tree).toMatch(
      /process payment\.captured {2}group=shipping-create-shipment attempt=3 → handled\n\s+send shipment\.created/,
    )
    expect(tree).toMatch(/attempt=3 → dead-lettered/)
  })
})
