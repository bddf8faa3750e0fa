import { type ChildProcess, spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { ConnectionError, createBus, PublishError, silentLogger } from '@tidings/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { redisStreamsTransport } from '../src/index.js'

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

describe('redis-streams authentication', () => {
  let server: ChildProcess
  let port: number

  // A private redis-server that wants a password; the shared one is never touched.
  beforeAll(async () => {
    port = await freePort()
    server = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--requirepass',
        's3cret-pass',
      ],
      { stdio: 'ignore' },
    )
    const started = Date.now()
    for (;;) {
      const open = await new Promise<boolean>((resolve) => {
        const socket = createServer().listen(port, '127.0.0.1')
        socket.once('listening', () => socket.close(() => resolve(false)))
        socket.once('error', () => resolve(true))
      })
      if (open) break
      if (Date.now() - started > 5000) throw new Error(`redis-server did not start on port ${port}`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  })
  afterAll(() => {
    server.kill('SIGKILL')
  })

  it('says a wrong password is refused, at once and without the password, instead of blaming the server', async () => {
    const bus = createBus({
      service: 'auth',
      logger: silentLogger,
      transport: redisStreamsTransport({
        url: `redis://:not-the-pass@127.0.0.1:${port}`,
        publishTimeoutMs: 5000,
      }),
    })
    bus.listen('order.placed', () => {}, { name: 'audit' })
    const started = performance.now()
    const failure = await bus.start().then(
      () => undefined,
      (error: unknown) => error,
    )
    expect(performance.now() - started).toBeLessThan(3000) // not after publishTimeoutMs
    expect(failure).toBeInstanceOf(ConnectionError)
    expect((failure as ConnectionError).authentication).toBe(true)
    expect((failure as ConnectionError).code).toBe('TIDINGS_AUTHENTICATION')
    expect((failure as Error).message).toMatch(/refused the credentials.*user name and password/)
    expect((failure as Error).message).not.toContain('not-the-pass')
    const published = bus.publish('order.placed', {})
    await expect(published).rejects.toBeInstanceOf(PublishError)
    await expect(published.catch((error: PublishError) => error.cause)).resolves.toBeInstanceOf(
      ConnectionError,
    )
    await bus.close()
  })
})
