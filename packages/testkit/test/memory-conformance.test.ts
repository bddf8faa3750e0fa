import { MemoryBroker, memoryTransport } from '@tidings/core'
import { describeTransportConformance } from '@tidings/testkit/conformance'

describeTransportConformance('memory', ({ namespace }) => memoryTransport({ namespace }), {
  injectRawMessage: async ({ namespace, type }, body) => MemoryBroker.named(namespace).publish(type, body),
  crashRecoverySlackMs: 200,
})
