import { describeTransportConformance } from '@tidings/testkit'
import { afterAll } from 'vitest'
import { namespaceKeys, redisStreamsTransport } from '../src/index.js'
import { deleteNamespace, REDIS_URL, rawClient } from './support.js'

const raw = rawClient()
afterAll(() => raw.disconnect())

describeTransportConformance(
  'redis-streams',
  ({ namespace }) => redisStreamsTransport({ url: REDIS_URL, namespace, blockMs: 500, delayedPollMs: 20 }),
  {
    // One stream read in order by a concurrency-1 listener. Several processes of one group compete
    // for entries (Redis has no partitions), so the order holds per process, as the suite tests.
    orderingByKey: true,
    crashRecovery: true,
    durableGroups: true,
    ephemeralListeners: true,
  },
  {
    // What a foreign publisher does: XADD with the event name as `type` and the bytes as `body`.
    async injectRawMessage({ namespace, type }, body) {
      await raw.xadd(namespaceKeys(namespace).events, '*', 'type', type, 'body', body)
    },
    cleanup: ({ namespace }) => deleteNamespace(namespace),
  },
)
