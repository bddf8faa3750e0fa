/**
 * `@tidings/testkit`: loads under any test runner (vitest, Jest, node:test); nothing here imports
 * one. The conformance suite, which needs vitest, is `@tidings/testkit/conformance`.
 */
export { jitterFreeDefaultBackoff } from './deterministic-retries.js'
export { ExpectPublishedError, TimerLoopError, WaitForTimeoutError } from './errors.js'
export { flushMicrotasks, ManualClock, type RunAllTimersOptions } from './manual-clock.js'
export { newNamespace } from './namespace.js'
export type { CatalogueEvent, DeepPartial, EventNameOf, Recorded, RecordKind } from './recorded-events.js'
export { createTcpProxy, type TcpProxy } from './tcp-proxy.js'
export { createTestBus, type TestBus, type TestBusOptions, type WaitForOptions } from './test-bus.js'
export {
  encodedMessage,
  type RecordedDelivery,
  recordDeliveries,
  subscribeOptions,
} from './transport-testing.js'
export { sleep, waitUntil } from './wait.js'
