import { execFile } from 'node:child_process'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'

const ROOT = resolve(import.meta.dirname, '../../..')

/**
 * Vitest globalSetup of the `cli` project: builds the CLI and what it loads (core, the transports)
 * once, so the tests run `dist/bin.js` as a user's shell would. Turbo makes a build CI has just made
 * a cache hit.
 */
export default async function setup(): Promise<void> {
  await promisify(execFile)(
    join(ROOT, 'node_modules/.bin/turbo'),
    ['run', 'build', '--filter=@tidings/cli...', '--output-logs=errors-only'],
    { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 },
  )
}
