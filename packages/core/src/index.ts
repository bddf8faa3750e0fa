/**
 * `@tidings/core`: the API of a service that publishes and listens, by name. What an adapter author
 * needs beyond the port types (option checks, back-off, leases, URL options, …) is in
 * `@tidings/core/transport`; internals (retry decisions, option resolution) are not exported.
 */

// The bus
export {
  Bus,
  type BusHealth,
  type BusState,
  createBus,
  type Listener,
  type ListenerInfo,
  type PayloadFor,
} from './bus/bus.js'
export type { AnyEvents, BusJournal, BusOptions, EventCatalogue } from './bus/bus-options.js'
export { type DeadLetter, DeadLetterQueue } from './dead-letter/dead-letter-queue.js'
// Events on the wire (CloudEvents 1.0, structured JSON): for tools and tests that speak it
export { decodeEnvelope, type EnvelopeInput, type Event, encodeEnvelope } from './envelope/envelope.js'
export { EncodedMessage } from './envelope/outgoing-message.js'
export { NonRetryable, RetryLater } from './errors/control-flow.js'
// Errors (codes and what to do: docs/errors.md)
export {
  ConfigError,
  ConnectionError,
  CrashLoopError,
  DecodeError,
  DuplicateListenerError,
  GroupNotFoundError,
  HandlerTimeoutError,
  PayloadTooLargeError,
  PublishError,
  SerializationError,
  TidingsError,
  TransportClosedError,
  TransportNotInstalledError,
  ValidationError,
} from './errors/errors.js'
export {
  type IdempotencyClaim,
  type IdempotencyOptions,
  type IdempotencyStore,
  memoryIdempotencyStore,
} from './idempotency/idempotency-store.js'
// Observability
export type {
  HandleInterception,
  HandleOutcome,
  Interceptor,
  PublishInterception,
} from './interceptors/interceptor.js'
export type {
  Handler,
  HandlerContext,
  ListenerDefaults,
  ListenOptions,
  PublishOptions,
} from './listener/listen-options.js'
// Transports: the memory transport, configuration by URL, and the port's types (adapter authors
// also find them, with the kit, in @tidings/core/transport)
export { MemoryBroker } from './memory/memory-broker.js'
export { type MemoryTransportOptions, memoryTransport } from './memory/memory-transport.js'
export type { LifecycleEvents, LifecycleListener, LifecycleName } from './observability/lifecycle.js'
export { defaultLogger, type Logger, silentLogger } from './observability/logger.js'
export { matchesPattern } from './patterns/patterns.js'
// Retries, failures, dead letters
export { type Backoff, type ExponentialOptions, exponential, fixed } from './retry/backoff.js'
export {
  DEFAULT_MAX_ATTEMPTS,
  defaultRetryPolicy,
  type RetryOptions,
  type RetryPolicy,
} from './retry/retry-policy.js'
export type { StandardSchemaV1 } from './schema/standard-schema.js'
export { type Clock, systemClock } from './time/clock.js'
export {
  configuredTransportUrl,
  parseTransportUrl,
  redactUrl,
  TRANSPORT_SCHEMES,
} from './transport/resolve-url.js'
export type {
  AttemptFailure,
  CommonTransportOptions,
  DeadLetterInstruction,
  Delivery,
  DeliveryHandler,
  GroupStatus,
  OutgoingMessage,
  RetryInstruction,
  StoredDeadLetter,
  SubscribeOptions,
  Subscription,
  Transport,
  TransportCapabilities,
  TransportContext,
  TransportDeadLetters,
  TransportNotice,
} from './transport/transport.js'
