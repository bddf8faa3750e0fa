import {
  type Attributes,
  context,
  type MeterProvider,
  metrics,
  propagation,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TracerProvider,
  trace,
} from '@opentelemetry/api'
import type { HandleOutcome, Interceptor } from '@tidings/core'
import { carrierGetter, carrierSetter, type TraceCarrier } from './carrier.js'
import { createInstruments } from './instruments.js'
import { messagingSystem } from './messaging-system.js'

export interface OpenTelemetryOptions {
  /** Default: the global tracer provider (the one your SDK registered). */
  readonly tracerProvider?: TracerProvider | undefined
  /** Default: the global meter provider. */
  readonly meterProvider?: MeterProvider | undefined
}

const SCOPE = '@tidings/opentelemetry'
const VERSION = '0.1.0'

/**
 * An interceptor that makes OpenTelemetry spans and metrics per the messaging semantic conventions:
 * a PRODUCER span `send <type>` per publish, whose context travels in the envelope (`traceparent`,
 * `tracestate`), and a CONSUMER span `process <type>` per handling attempt, a child of it, inside
 * which the handler runs, so its own spans and `ctx.publish` continue the trace. Uses
 * `@opentelemetry/api` only: bring your own SDK.
 *
 * ```ts
 * createBus({ service: 'shipping', url, interceptors: [openTelemetry()] })
 * ```
 */
export function openTelemetry(options: OpenTelemetryOptions = {}): Interceptor {
  const tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer(SCOPE, VERSION)
  const instruments = createInstruments(
    (options.meterProvider ?? metrics.getMeterProvider()).getMeter(SCOPE, VERSION),
  )

  return {
    name: 'opentelemetry',

    async publish(publish, next) {
      const system = messagingSystem(publish.transport)
      const span = tracer.startSpan(`send ${publish.type}`, {
        kind: SpanKind.PRODUCER,
        attributes: {
          'messaging.system': system,
          'messaging.operation.type': 'send',
          'messaging.operation.name': 'send',
          'messaging.destination.name': publish.type,
          ...(publish.key === undefined ? {} : { 'messaging.message.conversation_id': publish.key }),
        },
      })
      const carrier: TraceCarrier = {}
      propagation.inject(trace.setSpan(context.active(), span), carrier, carrierSetter)
      if (carrier.traceparent) publish.traceparent = carrier.traceparent
      if (carrier.tracestate) publish.headers.tracestate = carrier.tracestate
      try {
        const event = await next()
        span.setAttribute('messaging.message.id', event.id)
        instruments.sent.add(1, { 'messaging.system': system, 'messaging.destination.name': publish.type })
        return event
      } catch (error) {
        fail(span, error)
        throw error
      } finally {
        span.end()
      }
    },

    async handle(attempt, next) {
      const { event } = attempt
      const system = messagingSystem(attempt.transport)
      const carrier: TraceCarrier = {}
      if (event.traceparent) carrier.traceparent = event.traceparent
      if (event.headers.tracestate) carrier.tracestate = event.headers.tracestate
      const parent = propagation.extract(context.active(), carrier, carrierGetter)
      const metricAttributes: Attributes = {
        'messaging.system': system,
        'messaging.destination.name': event.type,
        'messaging.consumer.group.name': attempt.group,
      }
      const span = tracer.startSpan(
        `process ${event.type}`,
        {
          kind: SpanKind.CONSUMER,
          attributes: {
            ...metricAttributes,
            'messaging.operation.type': 'process',
            'messaging.operation.name': 'process',
            'messaging.message.id': event.id,
            'messaging.message.body.size': attempt.bodyBytes,
            'messaging.tidings.attempt': attempt.attempt,
            'messaging.tidings.redelivered': attempt.redelivered,
          },
        },
        parent,
      )
      instruments.consumed.add(1, metricAttributes)
      const started = performance.now()
      try {
        const outcome = await context.with(trace.setSpan(parent, span), next)
        record(span, outcome, metricAttributes)
        return outcome
      } catch (error) {
        fail(span, error)
        throw error
      } finally {
        instruments.processDuration.record((performance.now() - started) / 1000, metricAttributes)
        span.end()
      }
    },
  }

  function record(span: Span, outcome: HandleOutcome, attributes: Attributes): void {
    span.setAttribute('messaging.tidings.outcome', outcome.kind)
    switch (outcome.kind) {
      case 'handled':
        span.setStatus({ code: SpanStatusCode.OK })
        return
      case 'retry-scheduled':
        span.setAttribute('messaging.tidings.retry_delay_ms', outcome.delayMs)
        instruments.retries.add(1, attributes)
        fail(span, outcome.error)
        return
      case 'dead-lettered':
        span.setAttribute('messaging.tidings.dead_letter_reason', outcome.reason)
        instruments.deadLetters.add(1, attributes)
        fail(span, outcome.error)
        return
      case 'dropped':
        fail(span, outcome.error)
        return
      case 'duplicate-skipped':
        instruments.duplicates.add(1, attributes)
        return
      case 'abandoned':
        span.setStatus({ code: SpanStatusCode.ERROR, message: 'the bus closed before the handler finished' })
        return
    }
  }
}

function fail(span: Span, error: unknown): void {
  if (error instanceof Error) {
    span.recordException(error)
    span.setAttribute('error.type', error.name)
  }
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: error instanceof Error ? error.message : String(error),
  })
}
