import { describeTransportConformance } from '@tidings/testkit/conformance'
import { deleteNamespace, ENDPOINT, makeTransport, publishRaw } from './support.js'

const emulator = new URL(ENDPOINT)

describeTransportConformance('sqs', ({ namespace }) => makeTransport(namespace), {
  injectRawMessage: ({ namespace, type }, body) => publishRaw(namespace, type, body.toString('utf8')),
  cleanup: ({ namespace }) => deleteNamespace(namespace),
  // Visibility timeouts count whole seconds, and a receiver long-polls for up to a second.
  crashRecoverySlackMs: 3000,
  // The suite's TCP proxy in front of the emulator's HTTP port.
  outages: {
    broker: { host: emulator.hostname, port: Number(emulator.port) },
    makeTransport: ({ namespace }, via, { publishTimeoutMs }) =>
      makeTransport(namespace, { endpoint: `http://${via.host}:${via.port}`, publishTimeoutMs }),
  },
})
