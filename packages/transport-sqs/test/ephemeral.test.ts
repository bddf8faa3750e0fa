import { ListQueuesCommand, ListQueueTagsCommand, TagQueueCommand } from '@aws-sdk/client-sqs'
import { createBus, silentLogger } from '@tidings/core'
import { waitUntil } from '@tidings/testkit'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { EphemeralQueues } from '../src/ephemeral-queues.js'
import { Names } from '../src/names.js'
import { Topology } from '../src/topology.js'
import { deleteNamespace, makeTransport, randomNamespace, rawSns, rawSqs } from './support.js'

describe('ephemeral groups on SQS', () => {
  let namespace = ''
  beforeEach(() => {
    namespace = randomNamespace()
  })
  afterEach(() => deleteNamespace(namespace))

  const queues = async (): Promise<string[]> => {
    const sqs = rawSqs()
    const out = await sqs.send(new ListQueuesCommand({ QueueNamePrefix: `${namespace}-` }))
    sqs.destroy()
    return (out.QueueUrls ?? []).map((url) => url.split('/').pop()!).sort()
  }
  // Ephemeral group names carry a random suffix, so two processes' tails never share a queue.
  const ofService = (service: string) => (name: string) =>
    new RegExp(`^${namespace}-${service}-watch-[0-9a-f]+(-dlq)?$`).test(name)

  it("removes a crashed process's ephemeral queues once their expiry has passed, and keeps a live one's", async () => {
    const service = (name: string) =>
      createBus({ service: name, transport: makeTransport(namespace), logger: silentLogger })
    // Processes that will "crash": they stay open, so their queues stay behind with their tags.
    const crashed = service('tail')
    crashed.listen('#', () => {}, { name: 'watch', durable: false })
    await crashed.start()
    const crashedToo = service('tap')
    crashedToo.listen('#', () => {}, { name: 'watch', durable: false })
    await crashedToo.start()
    const live = service('live')
    live.listen('#', () => {}, { name: 'watch', durable: false })
    await live.start()

    const before = await queues()
    expect(before).toHaveLength(6)
    const liveQueues = before.filter(ofService('live'))
    const crashedQueues = before.filter((name) => ofService('tail')(name) || ofService('tap')(name))
    expect(liveQueues).toHaveLength(2)
    expect(crashedQueues).toHaveLength(4)

    const sqs = rawSqs()
    for (const name of crashedQueues) {
      const url = (await sqs.send(new ListQueuesCommand({ QueueNamePrefix: name }))).QueueUrls!.find((each) =>
        each.endsWith(`/${name}`),
      )!
      const { Tags } = await sqs.send(new ListQueueTagsCommand({ QueueUrl: url }))
      expect(Tags).toMatchObject({ 'tidings-ephemeral': 'true' })
      expect(Number(Tags!['tidings-expires-at'])).toBeGreaterThan(Date.now())
      // As if its process died long ago: the last renewal's expiry is in the past.
      await sqs.send(
        new TagQueueCommand({ QueueUrl: url, Tags: { 'tidings-expires-at': String(Date.now() - 1000) } }),
      )
    }
    sqs.destroy()

    const next = service('orders')
    await next.start() // sweeps on connect
    await waitUntil(async () => (await queues()).length === 2, { what: 'the expired queues removed' })
    expect(await queues()).toEqual(liveQueues)

    await Promise.all([next.close(), live.close(), crashed.close(), crashedToo.close()])
    expect(await queues()).toEqual([])
  })

  it("renews the expiry of a living process's queues, so a sweep never takes them", async () => {
    const sqs = rawSqs()
    const sns = rawSns()
    const names = new Names(namespace)
    const topology = new Topology(sqs, sns, names)
    const ephemeral = new EphemeralQueues(sqs, topology, names, () => silentLogger, 100)
    const group = 'tail-watch-0a1b2c3d'
    await topology.declareGroup({
      group,
      patterns: ['#'],
      tags: ephemeral.tags(),
      visibilitySeconds: 30,
      maxReceiveCount: undefined,
    })
    const expiries = async () =>
      Promise.all(
        [names.groupQueue(group), names.deadLetterQueue(group)].map(async (name) => {
          const { Tags = {} } = await sqs.send(
            new ListQueueTagsCommand({ QueueUrl: await topology.queueUrl(name) }),
          )
          return Number(Tags['tidings-expires-at'])
        }),
      )
    const [first] = await expiries()
    ephemeral.track(group)
    await waitUntil(async () => (await expiries()).every((expiry) => expiry > first!), {
      what: 'both expiries renewed',
    })
    // Another process sweeping at the moment the first lease ran out finds them alive.
    const otherProcess = new EphemeralQueues(sqs, new Topology(sqs, sns, names), names, () => silentLogger)
    expect(await otherProcess.sweep(first! + 1)).toBe(0)
    expect(await queues()).toHaveLength(2)
    await ephemeral.removeAll()
    expect(await queues()).toEqual([])
    sqs.destroy()
    sns.destroy()
  })
})
