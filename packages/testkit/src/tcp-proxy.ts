import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net'

/**
 * A TCP proxy for fault tests: clients connect to `port`, traffic is relayed to the target, and
 * the test can cut every connection (as a network failure would) or refuse new ones, without
 * touching the shared broker.
 */
export interface TcpProxy {
  readonly host: string
  readonly port: number
  /** Destroy every open connection; new connections are still accepted unless blocked. */
  cut(): void
  /** Refuse (reset) new connections until restore(); open ones are cut too. */
  block(): void
  /** Accept connections again. */
  restore(): void
  /** Connections opened through the proxy so far. */
  readonly connectionCount: number
  close(): Promise<void>
}

export async function createTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<Socket>()
  let blocked = false
  let connectionCount = 0

  const server: Server = createServer((client) => {
    if (blocked) {
      client.resetAndDestroy()
      return
    }
    connectionCount += 1
    const upstream = connect(target.port, target.host)
    client.setNoDelay(true)
    upstream.setNoDelay(true)
    sockets.add(client)
    sockets.add(upstream)
    const teardown = (): void => {
      client.destroy()
      upstream.destroy()
      sockets.delete(client)
      sockets.delete(upstream)
    }
    client.on('error', teardown).on('close', teardown)
    upstream.on('error', teardown).on('close', teardown)
    client.pipe(upstream)
    upstream.pipe(client)
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo

  const cut = (): void => {
    for (const socket of sockets) socket.resetAndDestroy()
    sockets.clear()
  }

  return {
    host: '127.0.0.1',
    port,
    cut,
    block() {
      blocked = true
      cut()
    },
    restore() {
      blocked = false
    },
    get connectionCount() {
      return connectionCount
    },
    close: () =>
      new Promise<void>((resolve) => {
        cut()
        server.close(() => resolve())
      }),
  }
}
