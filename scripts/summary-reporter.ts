import type { Reporter, TestModule } from 'vitest/node'

/**
 * Ends every run with one plain line CI can read ("tests: N passed, N failed, N skipped") and the
 * full name of every skipped test, so no skip passes unnoticed.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(
    testModules: ReadonlyArray<TestModule>,
    unhandledErrors: ReadonlyArray<unknown> = [],
    reason: 'passed' | 'failed' | 'interrupted' = 'passed',
  ): void {
    let passed = 0
    let failed = 0
    const skipped: string[] = []
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state
        if (state === 'passed') passed += 1
        else if (state === 'failed') failed += 1
        else skipped.push(test.fullName)
      }
      if (module.state() === 'failed' && module.children.size === 0) failed += 1 // a file that failed to load
    }
    if (skipped.length > 0) {
      console.log(`\nSkipped tests (${skipped.length}), each with its reason in its name:`)
      for (const name of skipped) console.log(`  - ${name}`)
    }
    // A broker check that failed in globalSetup, or an error thrown outside any test: the run failed
    // even if no test did, and the summary must not read as a clean run.
    const outside = Math.max(unhandledErrors.length, reason === 'passed' || failed > 0 ? 0 : 1)
    if (outside > 0) {
      console.log(`\nThe run failed outside tests (${outside} error(s), see above); counted as failed.`)
      failed += outside
    }
    console.log(`\ntests: ${passed} passed, ${failed} failed, ${skipped.length} skipped`)
  }
}
