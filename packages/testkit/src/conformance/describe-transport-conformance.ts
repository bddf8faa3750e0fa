import { afterAll, describe } from 'vitest'
import type { ConformanceCapabilities, ConformanceHooks, MakeTransport } from './capabilities.js'
import { useConformanceHarness } from './harness.js'
import { badInputSuite } from './suites/bad-input.js'
import { deadLettersSuite } from './suites/dead-letters.js'
import { deliverySuite } from './suites/delivery.js'
import { lifecycleSuite } from './suites/lifecycle.js'
import { orderingSuite } from './suites/ordering.js'
import { retriesSuite } from './suites/retries.js'

/**
 * THE conformance suite: every transport, the memory one included, runs it against its real broker.
 * A guarantee a transport cannot keep is declared false in `capabilities`; its tests are skipped,
 * named as such, and listed at the end of the run.
 */
export function describeTransportConformance(
  name: string,
  makeTransport: MakeTransport,
  capabilities: ConformanceCapabilities,
  hooks: ConformanceHooks,
): void {
  describe(`transport conformance: ${name}`, () => {
    const harness = useConformanceHarness(name, makeTransport, capabilities, hooks)
    deliverySuite(harness)
    retriesSuite(harness)
    deadLettersSuite(harness)
    lifecycleSuite(harness)
    badInputSuite(harness)
    orderingSuite(harness)

    afterAll(() => {
      const missing = Object.entries(capabilities)
        .filter(([, declared]) => !declared)
        .map(([capability]) => capability)
      console.log(
        missing.length === 0
          ? `conformance ${name}: every capability declared, no test skipped`
          : `conformance ${name}: capabilities NOT declared (their tests skipped): ${missing.join(', ')}`,
      )
    })
  })
}
