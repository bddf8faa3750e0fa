import { describeTransportConformance } from '@tidings/testkit/conformance'
import { afterAll } from 'vitest'
import { redisStreamsTransport } from '../src/index.js'
import { namespaceKeys } from '../src/keys.js'
import { deleteNamespace, REDIS_URL, rawClient } from './support.js'

const raw = rawClient()
afterAll(() => raw.disconnect())

describeTransportConformance(
  'redis-streams',
  ({ namespace }) => redisStreamsTransport({ url: REDIS_URL, namespace, blockMs: 500, delayedPollMs: 20 }),
  {
    // What a foreign publisher does: XADD with the event name as `type` and the bytes as `body`.
    async injectRawMessage({ namespace, type }, body) {
      await raw.xadd(namespaceKeys(namespace).events, '*', 'type', type, 'body', body)
    },
    cleanup: ({ namespace }) => deleteNamespace(namespace),
    outages: {
      broker: { host: new URL(REDIS_URL).hostname, port: Number(new URL(REDIS_URL).port || 6379) },
      makeTransport: ({ namespace }, via, { publishTimeoutMs }) =>
        redisStreamsTransport({
          url: `redis://${via.host}:${via.port}`,
          namespace,
          publishTimeoutMs,
          blockMs: 500,
          delayedPollMs: 20,
        }),
    },
  },
)
