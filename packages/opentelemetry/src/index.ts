export { type OpenTelemetryOptions, openTelemetry } from './tracing-interceptor.js'
