import { describeTransportConformance } from '@tidings/testkit/conformance'
import { deleteNamespace, makeTransport, publishRaw } from './support.js'

describeTransportConformance('sqs', ({ namespace }) => makeTransport(namespace), {
  injectRawMessage: ({ namespace, type }, body) => publishRaw(namespace, type, body.toString('utf8')),
  cleanup: ({ namespace }) => deleteNamespace(namespace),
  // Visibility timeouts count whole seconds, and a receiver long-polls for up to a second.
  crashRecoverySlackMs: 3000,
})
