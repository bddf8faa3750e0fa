import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import type { TestProject } from 'vitest/node'

const run = promisify(execFile)
export const ROOT = resolve(import.meta.dirname, '../..')
/** The packages a user installs from the registry; each is built and packed once per test run. */
export const PACKED = [
  '@tidings/cli',
  '@tidings/core',
  '@tidings/opentelemetry',
  '@tidings/testkit',
  '@tidings/transport-amqp',
  '@tidings/transport-nats',
  '@tidings/transport-redis-streams',
  '@tidings/transport-sqs',
] as const

export interface PackedFile {
  readonly path: string
  readonly size: number
}
export interface PackedPackage {
  readonly name: string
  readonly filename: string
  readonly files: readonly PackedFile[]
}

declare module 'vitest' {
  export interface ProvidedContext {
    packDir: string
    packed: PackedPackage[]
  }
}

/**
 * Vitest globalSetup of the `packages-install` project: builds the published packages (turbo, so a
 * build CI has just made is a cache hit) and packs them with `npm pack` into a folder under the OS
 * temporary directory, outside the repository. The tests install those tarballs as a user would.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const filters = PACKED.map((name) => `--filter=${name}`)
  await exec(join(ROOT, 'node_modules/.bin/turbo'), ['run', 'build', ...filters, '--output-logs=errors-only'])
  const packDir = await mkdtemp(join(tmpdir(), 'tidings-pack-'))
  const workspaces = PACKED.flatMap((name) => ['--workspace', name])
  const { stdout } = await exec('npm', ['pack', '--json', '--pack-destination', packDir, ...workspaces])
  const packed = (JSON.parse(stdout) as PackedPackage[]).map(({ name, filename, files }) => ({
    name,
    filename: join(packDir, filename),
    files: files.map(({ path, size }) => ({ path, size })),
  }))
  project.provide('packDir', packDir)
  project.provide('packed', packed)
  return async () => {
    await rm(packDir, { recursive: true, force: true })
  }
}

async function exec(command: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  try {
    return await run(command, args, { cwd: ROOT, maxBuffer: 64 * 1024 * 1024, timeout: 300_000 })
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string }
    throw new Error(`${command} ${args.join(' ')} failed:\n${stdout}\n${stderr}`, { cause: error })
  }
}
