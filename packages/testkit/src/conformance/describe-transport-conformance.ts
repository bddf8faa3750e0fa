import { afterAll, describe } from 'vitest'
import { newNamespace } from '../namespace.js'
import { type ConformanceHooks, conformanceCapabilities, type MakeTransport } from './capabilities.js'
import { useConformanceHarness } from './harness.js'
import { badInputSuite } from './suites/bad-input.js'
import { crashRecoverySuite } from './suites/crash-recovery.js'
import { deadLettersSuite } from './suites/dead-letters.js'
import { deliverySuite } from './suites/delivery.js'
import { idempotencySuite } from './suites/idempotency.js'
import { lifecycleSuite } from './suites/lifecycle.js'
import { lifecycleEventsSuite } from './suites/lifecycle-events.js'
import { operationsSuite } from './suites/operations.js'
import { orderingSuite } from './suites/ordering.js'
import { outagesSuite } from './suites/outages.js'
import { retriesSuite } from './suites/retries.js'

/**
 * THE conformance suite: every transport, the memory one included, runs it against its real broker.
 * What it proves comes from the transport's own `capabilities`: a guarantee it declares it cannot
 * keep has its tests skipped, named as such, and listed at the end of the run.
 */
export function describeTransportConformance(
  name: string,
  makeTransport: MakeTransport,
  hooks: ConformanceHooks,
): void {
  const capabilities = conformanceCapabilities(makeTransport({ namespace: newNamespace() }))
  describe(`transport conformance: ${name}`, () => {
    const harness = useConformanceHarness(name, makeTransport, capabilities, hooks)
    deliverySuite(harness)
    crashRecoverySuite(harness)
    retriesSuite(harness)
    deadLettersSuite(harness)
    operationsSuite(harness)
    lifecycleSuite(harness)
    badInputSuite(harness)
    orderingSuite(harness)
    idempotencySuite(harness)
    lifecycleEventsSuite(harness)
    outagesSuite(harness)

    afterAll(() => {
      const missing = Object.entries(capabilities)
        .filter(([, declared]) => !declared)
        .map(([capability]) => `capability "${capability}"`)
      const counters = Object.entries(capabilities.groupCounters)
        .filter(([, known]) => !known)
        .map(([counter]) => counter)
      if (counters.length > 0) missing.push(`the group counters ${counters.join(', ')} (reported undefined)`)
      if (!hooks.outages) missing.push('the outages hook (no connection to interrupt)')
      console.log(
        missing.length === 0
          ? `conformance ${name}: every capability declared, no test skipped`
          : `conformance ${name}: tests skipped for lack of ${missing.join(', ')}`,
      )
    })
  })
}
