import { execFile } from 'node:child_process'
import { resolve } from 'node:path'
import { promisify } from 'node:util'
import { beforeAll, describe, expect, it } from 'vitest'

const run = promisify(execFile)
const ROOT = resolve(import.meta.dirname, '../..')
const JEST_EXAMPLE = resolve(import.meta.dirname, 'jest')
const HIDE_VITEST = resolve(ROOT, 'packages/testkit/test/fixtures/hide-vitest.mjs')

async function exec(command: string, args: string[], cwd: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(command, args, {
      cwd,
      timeout: 240_000,
      maxBuffer: 16 * 1024 * 1024,
    })
    return { code: 0, output: stdout + stderr }
  } catch (error) {
    const { code, stdout = '', stderr = '' } = error as { code?: number; stdout?: string; stderr?: string }
    return { code: typeof code === 'number' ? code : 1, output: stdout + stderr }
  }
}

/** The examples of docs/testing.md for runners other than vitest, run by their own runner. */
describe('the testkit under other test runners (docs/testing.md)', () => {
  it('passes the node:test example with node --test, vitest impossible to load', async () => {
    const { code, output } = await exec(
      process.execPath,
      [
        '--conditions=@tidings/source',
        '--import',
        'tsx',
        '--import',
        HIDE_VITEST,
        '--test',
        'examples/testing/node-test/shipping.node-test.ts',
      ],
      ROOT,
    )
    expect(output).toMatch(/^# pass 1$/m)
    expect(output).toMatch(/^# fail 0$/m)
    expect(code).toBe(0)
  })

  describe('Jest', () => {
    beforeAll(async () => {
      // Jest loads the published build (dist), as an installing project does: this file runs in the
      // packages-install project, whose globalSetup builds every package once before any test (two
      // builds at once would write the same dist files). Jest goes into examples/testing/jest (not a workspace).
      const install = await exec(
        'npm',
        ['install', '--prefix', JEST_EXAMPLE, '--no-audit', '--no-fund', '--loglevel=error'],
        ROOT,
      )
      expect(install.code, install.output).toBe(0)
    }, 300_000)

    it('passes the Jest example (native ESM)', async () => {
      const { code, output } = await exec(
        process.execPath,
        ['--experimental-vm-modules', 'node_modules/jest/bin/jest.js', '--ci'],
        JEST_EXAMPLE,
      )
      expect(output).toMatch(/Tests:\s+1 passed, 1 total/)
      expect(code).toBe(0)
    }, 60_000)
  })
})
