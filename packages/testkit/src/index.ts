export { describeTransportConformance } from './conformance/describe-transport-conformance.js'
export type {
  ConformanceCapabilities,
  ConformanceContext,
  ConformanceHooks,
  MakeTransport,
} from './conformance/capabilities.js'
export { newNamespace } from './conformance/harness.js'
export { createTcpProxy, type TcpProxy } from './tcp-proxy.js'
export { ManualClock, flushMicrotasks } from './manual-clock.js'
export { createTestBus, type TestBus, type Recorded, type RecordKind } from './test-bus.js'
export { WaitForTimeoutError, waitUntil, sleep } from './wait.js'
