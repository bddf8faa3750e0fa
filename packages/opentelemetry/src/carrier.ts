import type { TextMapGetter, TextMapSetter } from '@opentelemetry/api'

/**
 * The W3C trace context travels in the envelope as the CloudEvents distributed-tracing extension:
 * `traceparent` (an envelope attribute) and `tracestate` (an extension attribute, in `headers`).
 */
export interface TraceCarrier {
  traceparent?: string
  tracestate?: string
}

export const carrierSetter: TextMapSetter<TraceCarrier> = {
  set(carrier, key, value) {
    if (key === 'traceparent' || key === 'tracestate') carrier[key] = value
  },
}

export const carrierGetter: TextMapGetter<TraceCarrier> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => (key === 'traceparent' || key === 'tracestate' ? carrier[key] : undefined),
}
