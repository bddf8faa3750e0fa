import { execFile } from 'node:child_process'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'

const ROOT = resolve(import.meta.dirname, '../..')

/** `npm run demo` as a user runs it, with the TIDINGS_URL they may have left in a .env file. */
function demo(tidingsUrl: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', '--conditions=@tidings/source', 'examples/shop/demo.ts'],
      { cwd: ROOT, env: { ...process.env, TIDINGS_URL: tidingsUrl }, timeout: 60_000 },
      (error, stdout, stderr) => done({ code: error === null ? 0 : Number(error.code ?? 1), stdout, stderr }),
    )
  })
}

describe('npm run demo and TIDINGS_URL', () => {
  it('an empty TIDINGS_URL runs on memory://, as when it is unset', async () => {
    const { code, stdout, stderr } = await demo('')
    expect(stderr).not.toMatch(/TypeError|Invalid URL/)
    expect(stdout).toContain('Tidings shop demo on memory://')
    expect(code).toBe(0)
  })

  it('a URL without a scheme says what to write, without a stack trace', async () => {
    const { code, stdout, stderr } = await demo('user:s3cr3t@localhost:6379')
    expect(code).toBe(2)
    expect(stdout).toBe('')
    expect(stderr.trim()).toBe(
      'tidings: TIDINGS_URL: The transport URL scheme "user:" is unknown (in "user:***@localhost:6379"): did you mean redis://***@localhost:6379? Otherwise use one of memory://, amqp://, amqps://, redis://, rediss://, nats://, sqs://.',
    )
  })
})
