import type { NatsConnection } from '@nats-io/transport-node'
import { describeTransportConformance } from '@tidings/testkit/conformance'
import { afterAll, beforeAll } from 'vitest'
import { natsTransport } from '../src/index.js'
import { namespaceSubjects } from '../src/subjects.js'
import { deleteNamespace, NATS_SERVER, NATS_URL, rawConnection, testOptions } from './support.js'

let raw: NatsConnection
beforeAll(async () => {
  raw = await rawConnection()
})
afterAll(() => raw.close())

describeTransportConformance('nats', ({ namespace }) => natsTransport(testOptions(namespace)), {
  // What a foreign publisher does: plain core NATS publish on the event's subject.
  async injectRawMessage({ namespace, type }, body) {
    raw.publish(namespaceSubjects(namespace).event(type), body)
    await raw.flush()
  },
  cleanup: ({ namespace }) => deleteNamespace(namespace),
  outages: {
    broker: NATS_SERVER,
    makeTransport: ({ namespace }, via, { publishTimeoutMs }) =>
      natsTransport(
        testOptions(namespace, {
          url: `nats://${via.host}:${via.port}`,
          publishTimeoutMs,
          connectionOptions: {
            reconnectTimeWait: 100,
            reconnectJitter: 50,
            pingInterval: 1000,
            maxPingOut: 2,
          },
        }),
      ),
  },
})

void NATS_URL
