import { randomBytes } from 'node:crypto'
import { jetstreamManager } from '@nats-io/jetstream'
import { connect, type NatsConnection } from '@nats-io/transport-node'
import { silentLogger } from '@tidings/core'
import { afterEach, beforeEach } from 'vitest'
import { type NatsTransport, natsTransport } from '../src/index.js'
import type { NatsTransportOptions } from '../src/options.js'

export const NATS_URL = process.env.TIDINGS_NATS_URL ?? 'nats://127.0.0.1:4222'
export const NATS_SERVER = { host: new URL(NATS_URL).hostname, port: Number(new URL(NATS_URL).port || 4222) }

export function randomNamespace(): string {
  return `tn${Date.now().toString(36)}${randomBytes(3).toString('hex')}`
}

export function rawConnection(url = NATS_URL): Promise<NatsConnection> {
  return connect({ servers: new URL(url).host, maxReconnectAttempts: 3 })
}

/** Deletes both streams of a namespace (their consumers go with them). */
export async function deleteNamespace(namespace: string, url = NATS_URL): Promise<void> {
  const connection = await rawConnection(url)
  try {
    const jsm = await jetstreamManager(connection)
    for (const stream of [`${namespace}-events`, `${namespace}-dead-letters`]) {
      await jsm.streams.delete(stream).catch(() => {})
    }
  } finally {
    await connection.close()
  }
}

/** Options every test transport uses: short pulls, quick reconnects. */
export function testOptions(
  namespace: string,
  options: Partial<NatsTransportOptions> = {},
): NatsTransportOptions {
  return { url: NATS_URL, namespace, pullExpiresMs: 1000, ...options } as NatsTransportOptions
}

export async function connectTransport(
  namespace: string,
  options: Partial<NatsTransportOptions> = {},
): Promise<NatsTransport> {
  const transport = natsTransport(testOptions(namespace, options))
  await transport.connect({ logger: silentLogger, notify: () => {} })
  return transport
}

/** Below the bus: encoded events, subscribe options and a delivery recorder, shared with every adapter's tests. */
export {
  encodedMessage as message,
  type RecordedDelivery as Received,
  recordDeliveries as record,
  subscribeOptions,
} from '@tidings/testkit'

/**
 * Per-test isolation for a describe block: a fresh namespace and transports opened with `open()`,
 * closed (and the namespace's streams deleted) after each test.
 */
export function useNatsTestNamespace(): {
  readonly namespace: string
  open(options?: Partial<NatsTransportOptions>): Promise<NatsTransport>
} {
  let namespace = randomNamespace()
  let transports: NatsTransport[] = []
  beforeEach(() => {
    namespace = randomNamespace()
    transports = []
  })
  afterEach(async () => {
    await Promise.allSettled(transports.map((transport) => transport.close()))
    await deleteNamespace(namespace)
  })
  return {
    get namespace() {
      return namespace
    },
    async open(options = {}) {
      const transport = await connectTransport(namespace, options)
      transports.push(transport)
      return transport
    },
  }
}

export { silentLogger }
