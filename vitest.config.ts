import { defaultServerConditions } from 'vite'
import { defineConfig } from 'vitest/config'

// One run for the whole monorepo: packages resolve to their TypeScript sources through the
// "source" export condition, so tests never depend on a stale build.
const conditions = ['source', ...defaultServerConditions]

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ['source'] } },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'examples/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    reporters: ['default', './scripts/summary-reporter.ts'],
    pool: 'forks',
  },
})
