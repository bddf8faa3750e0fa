import { AckPolicy, jetstreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream'
import type { NatsConnection } from '@nats-io/transport-node'
import { ConfigError, createBus, type Event, silentLogger } from '@tidings/core'
import { waitUntil } from '@tidings/testkit'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { natsTransport } from '../src/index.js'
import {
  message,
  rawConnection,
  record,
  subscribeOptions,
  testOptions,
  useNatsTestNamespace,
} from './support.js'

describe('nats streams and consumers', () => {
  const nats = useNatsTestNamespace()
  let raw: NatsConnection
  beforeEach(async () => {
    raw = await rawConnection()
  })
  afterEach(() => raw.close())

  const manager = () => jetstreamManager(raw)

  it('asks the server for the exact subjects of a pattern NATS can express', async () => {
    const transport = await nats.open()
    await record(transport, subscribeOptions('shipping-orders', ['order.*']))
    const info = await (await manager()).consumers.info(`${nats.namespace}-events`, 'shipping-orders')
    expect(info.config.filter_subject).toBe(`${nats.namespace}.events.order.*`)
    expect(info.config.ack_policy).toBe(AckPolicy.Explicit)
    expect(info.config.max_deliver).toBe(-1)
  })

  it('filters coarsely on the server and exactly in core for patterns NATS 2.9 cannot hold in one filter (G3)', async () => {
    const bus = createBus({
      service: 'audit',
      logger: silentLogger,
      transport: natsTransport(testOptions(nats.namespace)),
    })
    const seen: Event[] = []
    bus.listen(['#.done', 'order.placed'], async (event) => void seen.push(event), { name: 'trail' })
    await bus.start()
    for (const type of ['payment.done', 'order.placed', 'order.shipped', 'a.b.done', 'done', 'done.not'])
      await bus.publish(type, {})
    await waitUntil(() => seen.length >= 4, { timeoutMs: 5000, what: 'the matching events' })
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(seen.map((event) => event.type).sort()).toEqual([
      'a.b.done',
      'done',
      'order.placed',
      'payment.done',
    ])
    await bus.close()
  })

  it('updates a consumer whose patterns or ackTimeoutMs changed since it was created', async () => {
    const first = await nats.open()
    await (
      await record(first, subscribeOptions('shipping-orders', ['order.*'], { ackTimeoutMs: 1000 }))
    ).stop()
    const second = await nats.open()
    const { log } = await record(
      second,
      subscribeOptions('shipping-orders', ['payment.*'], { ackTimeoutMs: 2000 }),
    )
    const info = await (await manager()).consumers.info(`${nats.namespace}-events`, 'shipping-orders')
    expect(info.config.filter_subject).toBe(`${nats.namespace}.events.payment.*`)
    expect(info.config.ack_wait).toBe(2000 * 1_000_000)
    await second.publish(message('order.placed'))
    await second.publish(message('payment.done'))
    await waitUntil(() => log.length === 1, { timeoutMs: 5000, what: 'the payment' })
    expect(log[0]!.event.type).toBe('payment.done')
  })

  it('refuses with ConfigError a stream left with settings the server cannot change (retention)', async () => {
    await (await manager()).streams.add({
      name: `${nats.namespace}-events`,
      subjects: [`${nats.namespace}.events.>`, `${nats.namespace}.retry.>`],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
    })
    const transport = natsTransport(testOptions(nats.namespace))
    const connecting = transport.connect({ logger: silentLogger, notify: () => {} })
    await expect(connecting).rejects.toBeInstanceOf(ConfigError)
    await expect(connecting).rejects.toThrow(/retention "limits".*needs "interest".*nats stream rm/)
  })

  it('updates a stream whose changeable settings differ (duplicate window, max age)', async () => {
    await nats.open({ duplicateWindowMs: 60_000 })
    await nats.open({ duplicateWindowMs: 30_000, maxAgeMs: 3_600_000 })
    const info = await (await manager()).streams.info(`${nats.namespace}-events`)
    expect(info.config.duplicate_window).toBe(30_000 * 1_000_000)
    expect(info.config.max_age).toBe(3_600_000 * 1_000_000)
  })

  it('refuses with ConfigError a consumer of the group that is a push consumer', async () => {
    await nats.open()
    await (await manager()).consumers.add(`${nats.namespace}-events`, {
      durable_name: 'shipping-orders',
      ack_policy: AckPolicy.Explicit,
      deliver_subject: 'somewhere.else',
    })
    const transport = await nats.open()
    await expect(
      transport.subscribe(subscribeOptions('shipping-orders', ['order.*']), async () => {}),
    ).rejects.toThrow(/push consumer/)
  })

  it('removes an ephemeral group on close, and the server removes it when its process vanished', async () => {
    const closing = await nats.open()
    await record(closing, subscribeOptions('tail-abc123', ['#'], { durable: false }))
    const vanishing = await nats.open({ ephemeralInactiveMs: 1000 })
    await record(vanishing, subscribeOptions('tail-def456', ['#'], { durable: false }))
    const names = async () => {
      const found: string[] = []
      // A consumer the server is removing right now is listed as null by nats-server before 2.10.
      for await (const consumer of (await manager()).consumers.list(`${nats.namespace}-events`))
        if (consumer) found.push(consumer.name)
      return found.sort()
    }
    expect(await names()).toEqual(['tail-abc123', 'tail-abc123--retry', 'tail-def456', 'tail-def456--retry'])
    await closing.close()
    expect(await names()).toEqual(['tail-def456', 'tail-def456--retry'])
    // The process vanishes without closing anything: its connection just goes.
    await (vanishing as unknown as { connection: NatsConnection }).connection.close()
    await waitUntil(async () => (await names()).length === 0, {
      timeoutMs: 10_000,
      what: 'the server to remove the ephemeral group',
    })
  })

  it('inspects groups while the server removes ephemeral ones whose process vanished', async () => {
    const transport = await nats.open()
    await record(transport, subscribeOptions('kept', ['#']))
    const jsm = await manager()
    // Ephemeral groups, the way a process that vanished leaves them: the server removes them all
    // at about the same moment, and a listing taken meanwhile meets consumers half removed.
    for (let index = 0; index < 100; index++)
      await jsm.consumers.add(`${nats.namespace}-events`, {
        name: `tail-${index}`,
        ack_policy: AckPolicy.Explicit,
        inactive_threshold: 300_000_000, // nanoseconds
      })
    // Several inspections at once, as several operators' consoles would, to meet that moment.
    const inspectUntilOnlyKeptRemains = async () => {
      let groups: string[] = []
      const deadline = Date.now() + 5000
      do groups = (await transport.inspectGroups()).map((status) => status.group)
      while (groups.length > 1 && Date.now() < deadline)
      return groups
    }
    const results = await Promise.all(Array.from({ length: 6 }, inspectUntilOnlyKeptRemains))
    expect(results).toEqual(Array.from({ length: 6 }, () => ['kept']))
  })

  it('declares the dead-letter stream with limits retention, so dead letters wait for a person', async () => {
    await nats.open()
    const info = await (await manager()).streams.info(`${nats.namespace}-dead-letters`)
    expect(info.config.retention).toBe(RetentionPolicy.Limits)
    expect(info.config.subjects).toEqual([`${nats.namespace}.dead-letters.>`])
  })
})
