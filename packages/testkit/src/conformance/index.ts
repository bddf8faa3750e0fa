/**
 * `@tidings/testkit/conformance`: the transport conformance suite. The only entry of the testkit that
 * needs vitest (it declares describe/it/beforeEach), so `@tidings/testkit` itself loads under any runner.
 */
export { newNamespace } from '../namespace.js'
export type {
  ConformanceCapabilities,
  ConformanceContext,
  ConformanceHooks,
  MakeTransport,
  OutageHooks,
} from './capabilities.js'
export { describeTransportConformance } from './describe-transport-conformance.js'
