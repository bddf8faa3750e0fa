/**
 * `@tidings/core/transport`: what an adapter author imports, and nothing a bus user needs. The port
 * (types), plus the pieces every adapter would otherwise write again with its own rules: subscribe
 * option checks with the one group-name rule, back-off and a cancellable sleeper, URL query options,
 * URL redaction, one settle-once rule, credits that bound what a consumer asks the broker for (G9),
 * leases for brokers without them, history fitting, a bounded wait for close().
 */

export { fitHistory } from './dead-letter/history-budget.js'
export { parseJsonSafely } from './envelope/safe-json.js'
export {
  ConfigError,
  ConnectionError,
  GroupNotFoundError,
  PublishError,
  TidingsError,
  TransportClosedError,
} from './errors/errors.js'
export { type Logger, silentLogger } from './observability/logger.js'
export { assertGroupName, assertPattern } from './patterns/names.js'
export { compilePatterns, type PatternMatcher } from './patterns/patterns.js'
export { type Clock, systemClock } from './time/clock.js'
export { atMost } from './transport/kit/at-most.js'
export { type BackOffOptions, backOffDelay, DEFAULT_BACK_OFF, Sleeper } from './transport/kit/back-off.js'
export { Credits } from './transport/kit/credits.js'
export { type Leased, LeaseTracker } from './transport/kit/lease-tracker.js'
export { SettleOnce } from './transport/kit/settle-once.js'
export { assertSubscribeOptions } from './transport/kit/subscribe-options.js'
export { readUrlOptions, type UrlParameter } from './transport/kit/url-options.js'
export { redactUrl, type TransportModule } from './transport/resolve-url.js'
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
export { describeValue } from './util/describe-value.js'
export { showOnly } from './util/inspection.js'
