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

describe('tidings demo --console', () => {
  it('records the demo in a journal and serves the console on it: the dead letter is found, replayed, and its trace grows', async () => {
    const served = startTidings(['demo', '--console', '--port', '0'], { TIDINGS_URL: 'memory://' })
    try {
      const deadline = Date.now() + 30_000
      while (
        !/access token for replay and purge: (\S+)/.test(served.output.stdout) &&
        Date.now() < deadline
      ) {
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      const stdout = served.output.stdout
      const url = /Console on (http:\S+?)\/?\n/.exec(stdout)?.[1]
      const token = /access token for replay and purge: (\S+)/.exec(stdout)?.[1]
      expect(url, served.output.stderr).toBeDefined()
      expect(token).toMatch(/^[0-9a-f]{24}$/)
      const deadId = /event (\S+) \(payment\.captured\)/.exec(stdout)?.[1]
      expect(deadId).toBeDefined()

      const search = await (await fetch(`${url}/?q=${encodeURIComponent('type:payment.captured')}`)).text()
      expect(search).toContain(deadId)
      expect(search.match(/payment\.captured/g)?.length).toBeGreaterThanOrEqual(2)

      const failedSteps = async () => {
        const page = await (await fetch(`${url}/events/${encodeURIComponent(deadId!)}`)).text()
        return page.match(/has no shipping address/g)?.length ?? 0
      }
      const before = await failedSteps()
      expect(before).toBe(3)
      const replay = await fetch(`${url}/events/${encodeURIComponent(deadId!)}/replay`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
        body: new URLSearchParams({ group: 'shipping-create-shipment' }),
        redirect: 'manual',
      })
      expect(replay.status).toBe(303)
      // The shop is still listening: the replay fails again, three attempts more, in the trace.
      const grown = Date.now() + 10_000
      while ((await failedSteps()) < 6 && Date.now() < grown)
        await new Promise((resolve) => setTimeout(resolve, 100))
      expect(await failedSteps()).toBe(6)
    } finally {
      served.child.kill('SIGINT')
    }
    expect(await served.exited).toBe(0)
  })
})
