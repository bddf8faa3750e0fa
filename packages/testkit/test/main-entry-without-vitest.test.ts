import { execFile } from 'node:child_process'
import { resolve } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const run = promisify(execFile)
const ROOT = resolve(import.meta.dirname, '../../..')
const fixture = (name: string): string => resolve(import.meta.dirname, 'fixtures', name)

/** Runs a fixture in a plain Node process on the TypeScript sources, with vitest made impossible to load. */
async function runWithoutVitest(script: string): Promise<{ ok: boolean; output: string }> {
  const args = [
    '--conditions=@tidings/source',
    '--import',
    'tsx',
    '--import',
    fixture('hide-vitest.mjs'),
    fixture(script),
  ]
  try {
    const { stdout, stderr } = await run(process.execPath, args, { cwd: ROOT, timeout: 20_000 })
    return { ok: true, output: stdout + stderr }
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string }
    return { ok: false, output: stdout + stderr }
  }
}

describe('@tidings/testkit under a runner other than vitest', () => {
  it('loads and works with vitest impossible to import: test bus, clock, proxy, waitUntil, sleep, newNamespace', async () => {
    const { ok, output } = await runWithoutVitest('use-main-entry.mjs')
    expect(output).toContain('main entry works')
    expect(ok).toBe(true)
  })

  it('keeps the conformance suite, which needs vitest, at @tidings/testkit/conformance (so hiding vitest is real)', async () => {
    const { ok, output } = await runWithoutVitest('use-conformance-entry.mjs')
    expect(ok).toBe(false)
    expect(output).toMatch(/Cannot find package 'vitest'.*\(vitest is hidden\)/)
  })
})
