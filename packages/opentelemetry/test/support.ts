import { context, propagation, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import {
  AggregationTemporality,
  MeterProvider,
  MetricReader,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics'
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base'

/** A metric reader a test collects from when it wants. */
class TestMetricReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE })
  }
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

/** The OpenTelemetry SDK a user would register, with in-memory exporters. */
export function telemetry() {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
  propagation.setGlobalPropagator(new W3CTraceContextPropagator())
  const spans = new InMemorySpanExporter()
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] })
  const reader = new TestMetricReader()
  const meterProvider = new MeterProvider({ readers: [reader] })
  return {
    tracerProvider,
    meterProvider,
    tracer: tracerProvider.getTracer('test'),
    finishedSpans: (): ReadableSpan[] => spans.getFinishedSpans(),
    async metric(name: string): Promise<{ value: unknown; attributes: Record<string, unknown> }[]> {
      const { resourceMetrics } = (await reader.collect()) as { resourceMetrics: ResourceMetrics }
      const points = resourceMetrics.scopeMetrics
        .flatMap((scope) => scope.metrics)
        .filter((metric) => metric.descriptor.name === name)
        .flatMap((metric) => metric.dataPoints as { value: unknown; attributes: Record<string, unknown> }[])
      return points.map((point) => ({ value: point.value, attributes: { ...point.attributes } }))
    },
    async shutdown(): Promise<void> {
      await tracerProvider.shutdown()
      await meterProvider.shutdown()
      trace.disable()
      context.disable()
      propagation.disable()
    },
  }
}

export function parentOf(span: ReadableSpan): string | undefined {
  return (span as unknown as { parentSpanContext?: { spanId: string } }).parentSpanContext?.spanId
}

/** The span tree as text: one span a line, children indented under their parent. */
export function spanTree(spans: readonly ReadableSpan[]): string {
  const byParent = new Map<string | undefined, ReadableSpan[]>()
  const ids = new Set(spans.map((span) => span.spanContext().spanId))
  for (const span of spans) {
    const parent = parentOf(span)
    const key = parent !== undefined && ids.has(parent) ? parent : undefined
    byParent.set(key, [...(byParent.get(key) ?? []), span])
  }
  const lines: string[] = []
  const walk = (parent: string | undefined, depth: number): void => {
    const children = (byParent.get(parent) ?? []).sort(
      (a, b) => a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1],
    )
    for (const span of children) {
      const attributes = span.attributes
      const detail = [
        attributes['messaging.consumer.group.name'] && `group=${attributes['messaging.consumer.group.name']}`,
        attributes['messaging.tidings.attempt'] && `attempt=${attributes['messaging.tidings.attempt']}`,
        attributes['messaging.tidings.outcome'] && `→ ${attributes['messaging.tidings.outcome']}`,
      ]
        .filter(Boolean)
        .join(' ')
      lines.push(`${'  '.repeat(depth)}${span.name}${detail ? `  ${detail}` : ''}`)
      walk(span.spanContext().spanId, depth + 1)
    }
  }
  walk(undefined, 0)
  return lines.join('\n')
}
