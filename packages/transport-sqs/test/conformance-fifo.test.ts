import { describeTransportConformance } from '@tidings/testkit/conformance'
import { deleteNamespace, ENDPOINT, makeTransport, publishRaw } from './support.js'

const emulator = new URL(ENDPOINT)

// FIFO topic and queues: ordering by key (G14) declared; a retry hides the same message, so it
// carries no history (declared too, and the suite checks what remains).
describeTransportConformance('sqs (FIFO)', ({ namespace }) => makeTransport(namespace, { fifo: true }), {
  injectRawMessage: ({ namespace, type }, body) => publishRaw(namespace, type, body.toString('utf8')),
  cleanup: ({ namespace }) => deleteNamespace(namespace),
  crashRecoverySlackMs: 3000,
  outages: {
    broker: { host: emulator.hostname, port: Number(emulator.port) },
    makeTransport: ({ namespace }, via, { publishTimeoutMs }) =>
      makeTransport(namespace, { endpoint: `http://${via.host}:${via.port}`, publishTimeoutMs, fifo: true }),
  },
})
