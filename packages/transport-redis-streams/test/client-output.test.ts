import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { REDIS_URL } from './support.js'

const ROOT = fileURLToPath(new URL('../../..', import.meta.url))

describe('no broker client prints on its own', () => {
  it("routes ioredis' console warning about an unneeded password through the transport's logger", async () => {
    const url = new URL(REDIS_URL)
    url.password = 'not-needed'
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--conditions=@tidings/source',
        fileURLToPath(new URL('./fixtures/password-not-needed.ts', import.meta.url)),
        url.href,
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    )
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => {
      stdout += String(chunk)
    })
    child.stderr.on('data', (chunk) => {
      stderr += String(chunk)
    })
    const code = await new Promise((resolve) => child.once('exit', resolve))
    expect(code, stderr).toBe(0)
    const logged = stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((each) => JSON.parse(each) as Record<string, string>)
    expect(logged).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        source: 'ioredis',
        message: expect.stringMatching(/does not require a password/),
      }),
    )
    expect(stderr).not.toMatch(/\[WARN\]/)
    expect(stderr).toContain('an unrelated warning still reaches the console')
  })
})
