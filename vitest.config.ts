import { defaultServerConditions } from 'vite'
import { configDefaults, defineConfig } from 'vitest/config'

// One run for the whole monorepo: packages resolve to their TypeScript sources through the
// "@tidings/source" export condition (a name of this project's own, so no user's
// `--conditions=source` ever loads .ts files from node_modules), so tests never depend on a stale build.
// Without vite's "module" condition: Node ignores it, and packages whose "module" build is not valid
// Node ESM (@opentelemetry/api imports files without extensions) would load here but not in an app.
const conditions = [
  '@tidings/source',
  ...defaultServerConditions.filter((condition) => condition !== 'module'),
]

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ['@tidings/source'] } },
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    reporters: ['default', './scripts/summary-reporter.ts'],
    pool: 'forks',
    projects: [
      {
        extends: true,
        test: {
          name: 'core',
          include: [
            'packages/core/test/**/*.test.ts',
            'packages/testkit/test/**/*.test.ts',
            'examples/**/*.test.ts',
          ],
          // These load the built packages (dist): the packages-install project builds them once first.
          exclude: [...configDefaults.exclude, 'examples/testing/other-runners.test.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'amqp',
          include: ['packages/transport-amqp/test/**/*.test.ts'],
          globalSetup: ['./scripts/require-rabbitmq.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'opentelemetry',
          include: ['packages/opentelemetry/test/**/*.test.ts'],
          globalSetup: ['./scripts/require-redis.ts'],
        },
      },
      {
        extends: true,
        test: {
          // The packages as a user installs them: build and pack once, install the tarballs into a
          // scratch project outside the repository, compile and run the README example there.
          name: 'packages-install',
          include: [
            'test/install/**/*.test.ts',
            'test/docs/**/*.test.ts',
            'examples/testing/other-runners.test.ts',
          ],
          globalSetup: [
            './scripts/require-rabbitmq.ts',
            './scripts/require-redis.ts',
            './scripts/require-nats.ts',
            './scripts/sqs-emulator.ts',
            './test/install/global-setup.ts',
          ],
          testTimeout: 120_000,
          hookTimeout: 300_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'nats',
          include: ['packages/transport-nats/test/**/*.test.ts'],
          globalSetup: ['./scripts/require-nats.ts'],
        },
      },
      {
        extends: true,
        test: {
          // The built `tidings` bin, run as a child process against the real brokers.
          name: 'cli',
          include: ['packages/cli/test/**/*.test.ts'],
          globalSetup: [
            './scripts/require-rabbitmq.ts',
            './scripts/require-redis.ts',
            './scripts/require-nats.ts',
            './scripts/sqs-emulator.ts',
            './packages/cli/test/build-once.ts',
          ],
          hookTimeout: 300_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'journal',
          include: ['packages/journal/test/**/*.test.ts'],
          globalSetup: ['./scripts/require-postgres.ts'],
        },
      },
      {
        extends: true,
        test: {
          // The console in Debian's Chromium (playwright-core, no downloaded browser).
          name: 'console',
          include: ['packages/console/test/**/*.test.ts'],
          globalSetup: ['./scripts/require-chromium.ts'],
        },
      },
      {
        extends: true,
        test: {
          // AWS SDK v3 against the fauxqs emulator, started in-process by the global setup.
          name: 'sqs',
          include: ['packages/transport-sqs/test/**/*.test.ts'],
          globalSetup: ['./scripts/sqs-emulator.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'redis-streams',
          include: ['packages/transport-redis-streams/test/**/*.test.ts'],
          globalSetup: ['./scripts/require-redis.ts'],
        },
      },
    ],
  },
})
