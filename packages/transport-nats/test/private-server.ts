import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect } from '@nats-io/transport-node'

export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

/**
 * A nats-server of the test's own, on a free port with its own store, so fault tests never stop the
 * shared one. `stop()` kills it; `start()` brings it back on the same port and store.
 */
export class PrivateNatsServer {
  private child: ChildProcess | undefined
  readonly storeDir = mkdtempSync(join(tmpdir(), 'tidings-nats-'))

  private constructor(
    readonly port: number,
    private readonly extraArguments: readonly string[],
  ) {}

  static async start(extraArguments: readonly string[] = []): Promise<PrivateNatsServer> {
    const server = new PrivateNatsServer(await freePort(), extraArguments)
    await server.start()
    return server
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`
  }

  async start(): Promise<void> {
    this.child = spawn(
      'nats-server',
      ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', this.storeDir, ...this.extraArguments],
      { stdio: 'ignore' },
    )
    const started = Date.now()
    for (;;) {
      try {
        const probe = await connect({
          servers: `127.0.0.1:${this.port}`,
          maxReconnectAttempts: 0,
          timeout: 500,
          ...this.probeAuth(),
        })
        await probe.close()
        return
      } catch (error) {
        if (/authoriz/i.test((error as Error).message)) return
        if (Date.now() - started > 10_000) throw new Error(`nats-server did not start on port ${this.port}`)
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    }
  }

  private probeAuth(): Record<string, string> {
    const user = this.extraArguments.indexOf('--user')
    const pass = this.extraArguments.indexOf('--pass')
    return user >= 0 && pass >= 0
      ? { user: this.extraArguments[user + 1]!, pass: this.extraArguments[pass + 1]! }
      : {}
  }

  /** Kills the process (SIGKILL by default: a crash, not a shutdown). */
  async stop(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill(signal)
    await exited
  }

  async dispose(): Promise<void> {
    await this.stop()
    rmSync(this.storeDir, { recursive: true, force: true })
  }
}
