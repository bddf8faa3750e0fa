import { execFile } from 'node:child_process'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { extractSamples } from './extract-samples.js'

const run = promisify(execFile)
const ROOT = resolve(import.meta.dirname, '../..')
const OUT = join(ROOT, 'test/docs/.samples')

/**
 * What a sample may use without defining it: the context the surrounding prose gives ("a bus",
 * "your carrier client"). Everything else a sample uses must be imported or declared in it.
 */
const CONTEXT = `import type { Bus, Handler } from '@tidings/core'
import type { Redis } from 'ioredis'
import type { ShopEvents as Shop, Warehouse } from '../../../examples/testing/shipping.js'
declare global {
  type ShopEvents = Shop
  const bus: Bus<any>
  const handler: Handler<any, ShopEvents>
  const carrier: { book(orderId: string, options: { signal: AbortSignal }): Promise<string> }
  const alerts: { notify(text: string): void }
  const redis: Redis
  const warehouse: Warehouse
  function listenForPayments(bus: Bus<ShopEvents>, warehouse: Warehouse): unknown
}
export {}
`

/** Packages a sample imports that this repository does not install (ambient: a script, not a module). */
const AMBIENT = `declare module 'pino' {
  const pino: () => import('@tidings/core').Logger
  export default pino
}
`

describe('code samples in the docs', () => {
  it('compile under strict TypeScript with exactOptionalPropertyTypes, as a user copies them', async () => {
    // Against the shipped declarations (dist), as in a user's project: this file runs in the
    // packages-install project, whose globalSetup builds every package first.
    const samples = await extractSamples(ROOT)
    expect(samples.length).toBeGreaterThan(10)
    await rm(OUT, { recursive: true, force: true })
    await mkdir(OUT, { recursive: true })
    await writeFile(join(OUT, 'context.d.ts'), CONTEXT)
    await writeFile(join(OUT, 'ambient.d.ts'), AMBIENT)
    const names = samples.map((sample, index) => {
      const name = `sample-${String(index).padStart(2, '0')}.ts`
      return { name, sample }
    })
    for (const { name, sample } of names) {
      await writeFile(join(OUT, name), `// ${sample.where}\n${sample.code}\nexport {}\n`)
    }
    await writeFile(
      join(OUT, 'tsconfig.json'),
      JSON.stringify({
        extends: '../../../tsconfig.base.json',
        compilerOptions: {
          noEmit: true,
          exactOptionalPropertyTypes: true,
          noUnusedLocals: false,
          // Other packages' declarations (nats.js' among them) do not all hold under the flag.
          skipLibCheck: true,
          types: ['node'],
        },
        include: ['*.ts'],
      }),
    )
    const result = await run(join(ROOT, 'node_modules/.bin/tsc'), ['-p', join(OUT, 'tsconfig.json')], {
      cwd: ROOT,
    }).then(
      () => '',
      (error: { stdout?: string }) => error.stdout ?? String(error),
    )
    // Name each failure by the doc and line it comes from.
    const located = result.replace(
      /test\/docs\/\.samples\/(sample-\d+)\.ts\((\d+),(\d+)\)/g,
      (_all, name: string, line: string) => {
        const entry = names.find((each) => each.name === `${name}.ts`)!
        const [file, start] = entry.sample.where.split(':')
        return `${file}:${Number(start) + Number(line) - 2}`
      },
    )
    expect(located).toBe('')
  }, 120_000)
})

describe('the shipped declarations', () => {
  it('hold under strict TypeScript with exactOptionalPropertyTypes (ours; other packages are theirs to keep)', async () => {
    const dir = join(ROOT, 'test/docs/.declarations')
    await rm(dir, { recursive: true, force: true })
    await mkdir(dir, { recursive: true })
    const entries = [
      '@tidings/core',
      '@tidings/core/transport',
      '@tidings/testkit',
      '@tidings/testkit/conformance',
      '@tidings/transport-amqp',
      '@tidings/transport-redis-streams',
      '@tidings/transport-nats',
      '@tidings/transport-sqs',
      '@tidings/opentelemetry',
    ]
    await writeFile(
      join(dir, 'all.ts'),
      `${entries.map((entry, index) => `export * as entry${index} from '${entry}'`).join('\n')}\n`,
    )
    await writeFile(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        extends: '../../../tsconfig.base.json',
        compilerOptions: {
          noEmit: true,
          exactOptionalPropertyTypes: true,
          skipLibCheck: false,
          types: ['node'],
        },
        include: ['*.ts'],
      }),
    )
    const output = await run(join(ROOT, 'node_modules/.bin/tsc'), ['-p', join(dir, 'tsconfig.json')], {
      cwd: ROOT,
    }).then(
      () => '',
      (error: { stdout?: string }) => error.stdout ?? String(error),
    )
    const ours = output.split('\n').filter((line) => /^packages\/[^/]+\/dist\//.test(line))
    expect(ours).toEqual([])
  }, 120_000)
})
