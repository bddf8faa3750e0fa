import { PassThrough } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { runCli } from '../src/index.js'
import { BROKERS, newNamespace } from './brokers.js'
import { startTidings, tidings } from './run-bin.js'

/** A terminal as a TTY would be, to see what colour reaches it. */
function fakeTerminal(env: NodeJS.ProcessEnv) {
  const out = Object.assign(new PassThrough(), { isTTY: true })
  const err = Object.assign(new PassThrough(), { isTTY: true })
  const input = Object.assign(new PassThrough(), { isTTY: true })
  let written = ''
  out.on('data', (chunk: Buffer) => {
    written += chunk.toString('utf8')
  })
  return {
    terminal: { out, err, in: input, env },
    onInterrupt: () => () => {},
    written: () => written,
  }
}

const ESCAPE = '\u001b['

describe('colour', () => {
  it('colours its output on a terminal, and never when NO_COLOR is set', async () => {
    const plain = fakeTerminal({ TIDINGS_URL: 'memory://colour-1', NO_COLOR: '1' })
    expect(await runCli(['bench', '--events', '50'], plain)).toBe(0)
    expect(plain.written()).toContain('latency p99')
    expect(plain.written()).not.toContain(ESCAPE)
    const bright = fakeTerminal({ TIDINGS_URL: 'memory://colour-1' })
    expect(await runCli(['bench', '--events', '50'], bright)).toBe(0)
    expect(bright.written()).toContain(ESCAPE)
  })

  it('writes no colour into a pipe', async () => {
    const result = await tidings(['bench', '--events', '50'], { env: { TIDINGS_URL: 'memory://' } })
    expect(result.stdout).toContain('latency p99')
    expect(result.stdout).not.toContain(ESCAPE)
  })
})

describe.each(BROKERS)('Ctrl-C on $name', (broker) => {
  it('stops tail cleanly and removes its ephemeral group', async () => {
    const namespace = newNamespace()
    const env = { TIDINGS_URL: broker.url(namespace), ...broker.env }
    try {
      const tail = startTidings(['tail'], env)
      const deadline = Date.now() + 15_000
      while (!tail.output.stderr.includes('Tailing') && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      const during = await tidings(['groups', '--json'], { env })
      expect(during.stdout).toMatch(/"group":"tidings-cli-tail-[0-9a-f]+-/)
      tail.child.kill('SIGINT')
      expect(await tail.exited).toBe(0)
      const after = await tidings(['groups', '--json'], { env })
      expect(after.stdout).not.toContain('tidings-cli-tail-')
    } finally {
      await broker.cleanup(namespace)
    }
  })
})

describe('tidings console', () => {
  it('serves the web console on a journal store until Ctrl-C, read-only without a token', async () => {
    const { mkdtemp, rm } = await import('node:fs/promises')
    const { tmpdir } = await import('node:os')
    const { join } = await import('node:path')
    const dataDir = await mkdtemp(join(tmpdir(), 'tidings-cli-console-'))
    try {
      const refused = await tidings(['console', '--journal', `pglite:${dataDir}`], {
        env: { TIDINGS_URL: 'memory://' },
      })
      expect(refused.code).toBe(2)
      expect(refused.stderr).toContain('--token')
      const served = startTidings(
        ['console', '--journal', `pglite:${dataDir}`, '--read-only', '--port', '0'],
        {
          TIDINGS_URL: 'memory://',
        },
      )
      const deadline = Date.now() + 20_000
      while (!/Console on (http:\S+)/.test(served.output.stdout) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      const url = /Console on (http:\S+)/.exec(served.output.stdout)?.[1]
      expect(url, served.output.stderr).toBeDefined()
      const page = await fetch(url!)
      expect(page.status).toBe(200)
      expect(await page.text()).toContain('Tidings console')
      served.child.kill('SIGINT')
      expect(await served.exited).toBe(0)
    } finally {
      await rm(dataDir, { recursive: true, force: true })
    }
  })
})
