export type {
  ConformanceCapabilities,
  ConformanceContext,
  ConformanceHooks,
  MakeTransport,
  OutageHooks,
} from './conformance/capabilities.js'
export { describeTransportConformance } from './conformance/describe-transport-conformance.js'
export { newNamespace } from './conformance/harness.js'
export { flushMicrotasks, ManualClock } from './manual-clock.js'
export { createTcpProxy, type TcpProxy } from './tcp-proxy.js'
export { createTestBus, type Recorded, type RecordKind, type TestBus } from './test-bus.js'
export { sleep, WaitForTimeoutError, waitUntil } from './wait.js'
