/**
 * `npm run bench:peers`: Tidings beside two published peers and the raw drivers, on the same brokers
 * in the same run, with settings made as equal as each library allows (see docs/benchmarks.md for
 * every inequality): 1 KiB JSON events, persistent, 100 publishes in flight, prefetch / in-flight 50.
 *
 * - RabbitMQ: raw amqplib with and without publisher confirms, Tidings, @moleculer/channels (AMQP
 *   adapter), @message-queue-toolkit/amqp (topic publisher and consumer).
 * - Redis Streams: raw ioredis, Tidings, @moleculer/channels (Redis adapter).
 *   @message-queue-toolkit has no Redis adapter.
 *
 * The peers live in bench/peers/node_modules (installed by `npm run bench:peers`, never by the root
 * install): they are loaded with dynamic imports so that the root type-check and CI need none of them.
 */
import { randomUUID } from 'node:crypto'
import { type Bus, createBus, silentLogger } from '@tidings/core'
import { type AmqpTransport, amqpTransport } from '@tidings/transport-amqp'
import { redisStreamsTransport } from '@tidings/transport-redis-streams'
import amqp from 'amqplib'
import { Redis } from 'ioredis'
import { type BenchSide, benchSide, makePayload, median, now, tidingsConsumer } from '../harness.js'

const AMQP_URL = process.env.TIDINGS_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672'
const REDIS_URL = process.env.TIDINGS_REDIS_URL ?? 'redis://127.0.0.1:6379'
const WINDOW = 100
const PREFETCH = 50
const EVENTS = Number(process.env.BENCH_EVENTS ?? 20_000)
const LIMIT_MS = Number(process.env.BENCH_MS ?? 2000)
const LATENCY_EVENTS = Number(process.env.BENCH_LATENCY_EVENTS ?? 3_000)
const RUNS = Number(process.env.BENCH_RUNS ?? 3)
const TYPE = 'bench.order.placed'

type Payload = ReturnType<typeof makePayload>

/**
 * Loads a peer from bench/peers/node_modules and picks `names` from it (a CommonJS package's exports
 * may sit under `default`); a variable specifier keeps the root type-check out of the peers.
 */
async function load<Module>(specifier: string, names: readonly (keyof Module & string)[]): Promise<Module> {
  const loaded = (await import(specifier)) as Record<string, unknown> & { default?: Record<string, unknown> }
  const picked: Record<string, unknown> = {}
  for (const name of names) {
    picked[name] = loaded[name] ?? loaded.default?.[name]
    if (picked[name] === undefined) throw new Error(`${specifier} has no export "${name}"`)
  }
  return picked as Module
}

const cloudEvent = (data: Payload): { id: string; text: string } => {
  const id = randomUUID()
  const text = JSON.stringify({
    specversion: '1.0',
    id,
    type: TYPE,
    source: '/bench',
    time: new Date().toISOString(),
    datacontenttype: 'application/json',
    data,
  })
  return { id, text }
}

const done = Promise.resolve()

const draining = new WeakMap<object, Promise<void>>()

/** Resolves on the channel's next 'drain' (amqplib's back-pressure signal); one listener per channel. */
function drained(channel: { once(event: 'drain', listener: () => void): unknown }): Promise<void> {
  let waiting = draining.get(channel)
  if (!waiting) {
    waiting = new Promise((resolve) =>
      channel.once('drain', () => {
        draining.delete(channel)
        resolve()
      }),
    )
    draining.set(channel, waiting)
  }
  return waiting
}

/** A round trip on a channel: every publish sent on it before has been routed by RabbitMQ. */
const roundTrip = (channel: amqp.Channel, queue: string): Promise<void> =>
  channel.checkQueue(queue).then(() => {})

/** Resolves after the current I/O: fire-and-forget publishers yield once per window, as callers would. */
const yieldToIo = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/** A publish that resolves at once (no broker acknowledgement) still gives the socket a turn every window. */
function fireAndForget(send: () => void): () => Promise<void> {
  let sent = 0
  return () => {
    send()
    sent += 1
    return sent % WINDOW === 0 ? yieldToIo() : Promise.resolve()
  }
}

// ---- RabbitMQ ------------------------------------------------------------------------------------

async function amqpAdmin(): Promise<{
  purge(queue: string): Promise<void>
  drop(queues: string[], exchanges: string[]): Promise<void>
}> {
  return {
    async purge(queue) {
      const connection = await amqp.connect(AMQP_URL)
      const channel = await connection.createChannel()
      await channel.purgeQueue(queue).catch(() => {})
      await connection.close()
    },
    async drop(queues, exchanges) {
      const connection = await amqp.connect(AMQP_URL)
      const channel = await connection.createChannel()
      for (const queue of queues) await channel.deleteQueue(queue).catch(() => {})
      for (const exchange of exchanges) await channel.deleteExchange(exchange).catch(() => {})
      await connection.close()
    },
  }
}

async function rawAmqp(confirms: boolean): Promise<BenchSide> {
  const namespace = `peersraw${randomUUID().slice(0, 8)}`
  const exchange = `${namespace}.events`
  const queue = `${namespace}.group`
  const connection = await amqp.connect(AMQP_URL, { noDelay: true })
  const consuming = await amqp.connect(AMQP_URL, { noDelay: true })
  const admin = await connection.createChannel()
  await admin.assertExchange(exchange, 'topic', { durable: true })
  await admin.assertQueue(queue, { durable: true })
  await admin.bindQueue(queue, exchange, 'bench.#')
  const payload = makePayload(1024)
  const properties = (id: string) => ({
    persistent: true,
    contentType: 'application/cloudevents+json',
    messageId: id,
    type: TYPE,
  })
  let publishOne: (data: Payload) => Promise<void>
  let settle: (() => Promise<void>) | undefined
  if (confirms) {
    const channel = await connection.createConfirmChannel()
    publishOne = (data) =>
      new Promise((resolve, reject) => {
        const { id, text } = cloudEvent(data)
        channel.publish(exchange, TYPE, Buffer.from(text), properties(id), (error) =>
          error ? reject(error) : resolve(),
        )
      })
  } else {
    const channel = await connection.createChannel()
    // No broker acknowledgement: a publish is done once amqplib took it, and a full write buffer
    // (publish() returns false) is waited out on 'drain', as amqplib's documentation asks.
    publishOne = (data) => {
      const { id, text } = cloudEvent(data)
      return channel.publish(exchange, TYPE, Buffer.from(text), properties(id)) ? done : drained(channel)
    }
    settle = () => roundTrip(channel, queue)
  }
  return benchSide('raw amqplib', {
    publishOne: () => publishOne(payload),
    ...(settle ? { settle } : {}),
    afterPublish: () => admin.purgeQueue(queue).then(() => {}),
    async consumer(onEvent) {
      const channel = await consuming.createChannel()
      await channel.prefetch(PREFETCH)
      const { consumerTag } = await channel.consume(queue, (message) => {
        if (!message) return
        onEvent((JSON.parse(message.content.toString('utf8')) as { data: Payload }).data)
        channel.ack(message)
      })
      return async () => {
        await channel.cancel(consumerTag)
        await channel.close()
      }
    },
    publishStamped: (sentAt) => void publishOne({ ...payload, sentAt }),
    async cleanup() {
      await admin.deleteQueue(queue)
      await admin.deleteExchange(exchange)
      await connection.close()
      await consuming.close()
    },
  })
}

async function tidingsAmqp(): Promise<BenchSide> {
  const namespace = `peerstd${randomUUID().slice(0, 8)}`
  const transports: AmqpTransport[] = []
  const newBus = (): Bus => {
    const transport = amqpTransport({ url: AMQP_URL, namespace, prefetch: PREFETCH }) as AmqpTransport
    transports.push(transport)
    return createBus({ service: 'bench', transport, logger: silentLogger })
  }
  const listenOptions = { name: 'group', concurrency: PREFETCH, retry: false as const }
  const publisher = newBus()
  const creator = newBus()
  creator.listen('bench.#', () => {}, listenOptions)
  await creator.start()
  await creator.close()
  const payload = makePayload(1024)
  const admin = await amqpAdmin()
  return benchSide('Tidings', {
    publishOne: () => publisher.publish(TYPE, payload),
    afterPublish: () => admin.purge(`${namespace}.bench-group`),
    consumer: tidingsConsumer<Payload>(newBus, listenOptions),
    publishStamped: (sentAt) => void publisher.publish(TYPE, { ...payload, sentAt }).catch(() => {}),
    async cleanup() {
      await publisher.close()
      const resources = transports.flatMap((transport) => [transport.declaredResources()])
      await admin.drop(
        [...new Set(resources.flatMap((each) => each.queues))],
        [...new Set(resources.flatMap((each) => each.exchanges))],
      )
    },
  })
}

interface MoleculerBroker {
  start(): Promise<void>
  stop(): Promise<void>
  createService(schema: object): unknown
  sendToChannel(name: string, payload: unknown, options?: object): Promise<void>
}
interface MoleculerModule {
  ServiceBroker: new (options: object) => MoleculerBroker
}
interface ChannelsModule {
  Middleware: (options: object) => object
}

/**
 * @moleculer/channels: a publishing broker, and a consuming broker per consuming run (a service with
 * one channel handler in group "group"). `redis` picks the Redis adapter, otherwise AMQP.
 */
async function moleculer(kind: 'amqp' | 'redis'): Promise<BenchSide> {
  const { ServiceBroker } = await load<MoleculerModule>('moleculer', ['ServiceBroker'])
  const { Middleware } = await load<ChannelsModule>('@moleculer/channels', ['Middleware'])
  const namespace = `peersmol${randomUUID().slice(0, 8)}`
  const adapter =
    kind === 'amqp'
      ? {
          type: 'AMQP',
          options: {
            amqp: {
              url: AMQP_URL,
              socketOptions: { noDelay: true },
              queueOptions: { durable: true },
              exchangeOptions: { durable: true },
              messageOptions: { persistent: true },
            },
            maxInFlight: PREFETCH,
            maxRetries: 0,
          },
        }
      : {
          type: 'Redis',
          options: { redis: REDIS_URL, maxInFlight: PREFETCH, maxRetries: 0 },
        }
  const newBroker = (): MoleculerBroker =>
    new ServiceBroker({
      namespace,
      nodeID: `node-${randomUUID().slice(0, 8)}`,
      logger: false,
      transporter: null,
      middlewares: [Middleware({ adapter })],
    })
  const publisher = newBroker()
  await publisher.start()
  const channel = TYPE
  const options = kind === 'amqp' ? { persistent: true } : {}
  const payload = makePayload(1024)
  let onEvent: ((data: Payload) => void) | undefined
  const consumerBroker = async (): Promise<MoleculerBroker> => {
    const broker = newBroker()
    broker.createService({
      name: 'bench',
      channels: {
        [channel]: {
          group: 'group',
          maxInFlight: PREFETCH,
          handler: async (data: Payload) => onEvent?.(data),
        },
      },
    })
    await broker.start()
    return broker
  }
  // Create the group (queue or consumer group) once, so publish-only runs are kept for it.
  await (await consumerBroker()).stop()
  const redis = kind === 'redis' ? new Redis(REDIS_URL) : undefined
  const admin = await amqpAdmin()
  const prefixed = `${namespace}.${channel}`
  const clear = async (): Promise<void> => {
    if (redis) await redis.xtrim(prefixed, 'MAXLEN', 0)
    else await admin.purge(`group.${prefixed}`)
  }
  const send = (data: Payload): Promise<void> => publisher.sendToChannel(channel, data, options)
  // The AMQP adapter's publish does not wait for the broker (no confirms). It throws "Write buffer is
  // full" when amqplib's publish() returns false, although amqplib keeps that message and sends it:
  // a user must treat that error as sent and wait for the channel's 'drain' before the next publish.
  const amqpChannel = (): amqp.Channel =>
    (publisher as unknown as { channelAdapter: { channel: amqp.Channel } }).channelAdapter.channel
  const publishAmqp = (data: Payload): Promise<void> =>
    send(data).catch((error: Error) => {
      if (!/Write buffer is full/.test(error.message)) throw error
      return drained(amqpChannel())
    })
  return benchSide(`moleculer ${kind}`, {
    publishOne: kind === 'amqp' ? () => publishAmqp(payload) : () => send(payload),
    ...(kind === 'amqp' ? { settle: () => roundTrip(amqpChannel(), `group.${prefixed}`) } : {}),
    afterPublish: clear,
    async consumer(handle) {
      onEvent = handle
      const broker = await consumerBroker()
      return async () => {
        await broker.stop()
        onEvent = undefined
      }
    },
    publishStamped: (sentAt) =>
      void (kind === 'amqp' ? publishAmqp({ ...payload, sentAt }) : send({ ...payload, sentAt })).catch(
        () => {},
      ),
    async afterRun() {
      if (redis) await redis.xtrim(prefixed, 'MAXLEN', 0)
    },
    async cleanup() {
      await publisher.stop()
      if (redis) {
        const keys = await redis.keys(`${namespace}*`)
        if (keys.length > 0) await redis.del(...keys)
        redis.disconnect()
      } else {
        await admin.drop([`group.${prefixed}`], [prefixed])
      }
    },
  })
}

interface ToolkitService {
  init(): Promise<void>
  start(): Promise<void>
  close(): Promise<void>
  publish(message: object, options: object): void
}
type ToolkitClass = abstract new (
  dependencies: object,
  options: object,
  context?: unknown,
) => ToolkitService & {
  createMissingEntities(): Promise<void>
}
interface ToolkitModule {
  AbstractAmqpTopicPublisher: ToolkitClass
  AbstractAmqpTopicConsumer: ToolkitClass
  AmqpConnectionManager: new (
    config: object,
    logger: object,
  ) => { init(): Promise<void>; close(): Promise<void> }
  AmqpConsumerErrorResolver: new () => object
}
interface ToolkitCore {
  MessageHandlerConfigBuilder: new () => {
    addConfig(
      schema: unknown,
      handler: (message: unknown) => Promise<unknown>,
    ): {
      build(): unknown
    }
  }
}
interface Zod {
  z: {
    object(shape: object): unknown
    string(): unknown
    number(): unknown
    literal(value: string): unknown
  }
}

/**
 * @message-queue-toolkit/amqp: a topic publisher and a topic consumer (its documented base classes).
 * It sets no prefetch of its own; the consumer subclass sets 50 on its channel before it consumes.
 */
async function messageQueueToolkit(): Promise<BenchSide> {
  const toolkit = await load<ToolkitModule>('@message-queue-toolkit/amqp', [
    'AbstractAmqpTopicPublisher',
    'AbstractAmqpTopicConsumer',
    'AmqpConnectionManager',
    'AmqpConsumerErrorResolver',
  ])
  const core = await load<ToolkitCore>('@message-queue-toolkit/core', ['MessageHandlerConfigBuilder'])
  const { z } = await load<Zod>('zod/v4', ['z'])
  const namespace = `peersmqt${randomUUID().slice(0, 8)}`
  const exchange = `${namespace}.events`
  const queue = `${namespace}.group`
  const url = new URL(AMQP_URL)
  const noop = (): void => {}
  const logger = {
    trace: noop,
    debug: noop,
    info: noop,
    warn: noop,
    error: noop,
    fatal: noop,
    silent: noop,
    level: 'silent',
  }
  Object.assign(logger, { child: () => logger })
  const connectionManager = new toolkit.AmqpConnectionManager(
    {
      hostname: url.hostname,
      port: Number(url.port || 5672),
      username: decodeURIComponent(url.username),
      password: decodeURIComponent(url.password),
      vhost: '',
      useTls: false,
    },
    logger,
  )
  await connectionManager.init()
  const schema = z.object({
    id: z.string(),
    type: z.literal(TYPE),
    timestamp: z.string(),
    orderId: z.string(),
    sentAt: z.number(),
    filler: z.string(),
  })
  const dependencies = {
    amqpConnectionManager: connectionManager,
    logger,
    errorReporter: { report: noop },
    consumerErrorResolver: new toolkit.AmqpConsumerErrorResolver(),
    transactionObservabilityManager: undefined,
  }
  class Publisher extends toolkit.AbstractAmqpTopicPublisher {}
  class Consumer extends toolkit.AbstractAmqpTopicConsumer {
    override async createMissingEntities(): Promise<void> {
      await (this as unknown as { channel: amqp.Channel }).channel.prefetch(PREFETCH)
      await super.createMissingEntities()
    }
  }
  const publisher = new Publisher(dependencies, {
    exchange,
    messageSchemas: [schema],
    messageTypeResolver: { messageTypePath: 'type' },
    isLazyInitEnabled: false,
  })
  await publisher.init()
  let onEvent: ((data: Payload) => void) | undefined
  const newConsumer = (): ToolkitService =>
    new Consumer(
      dependencies,
      {
        creationConfig: {
          queueName: queue,
          queueOptions: { durable: true, autoDelete: false },
          exchange,
          topicPattern: 'bench.#',
        },
        messageTypeResolver: { messageTypePath: 'type' },
        handlers: new core.MessageHandlerConfigBuilder()
          .addConfig(schema, async (message) => {
            onEvent?.(message as Payload)
            return { result: 'success' }
          })
          .build(),
      },
      {},
    )
  const creator = newConsumer()
  await creator.start()
  await creator.close()
  const payload = makePayload(1024)
  const message = (data: Payload) => ({
    id: randomUUID(),
    type: TYPE,
    timestamp: new Date().toISOString(),
    ...data,
  })
  const publishOptions = { routingKey: TYPE, publishOptions: { persistent: true } }
  const send = fireAndForget(noop)
  const admin = await amqpAdmin()
  // Its publish() returns nothing and exposes no back-pressure: yield to I/O once per window.
  const toolkitChannel = (): amqp.Channel => (publisher as unknown as { channel: amqp.Channel }).channel
  return benchSide('message-queue-toolkit', {
    publishOne: () => {
      publisher.publish(message(payload), publishOptions)
      return send()
    },
    settle: () => roundTrip(toolkitChannel(), queue),
    afterPublish: () => admin.purge(queue),
    async consumer(handle) {
      onEvent = handle
      const consumer = newConsumer()
      await consumer.start()
      return async () => {
        // Its acks follow the handler asynchronously: let the last ones out before closing the channel.
        await new Promise((resolve) => setTimeout(resolve, 50))
        await consumer.close()
        onEvent = undefined
      }
    },
    publishStamped: (sentAt) => publisher.publish(message({ ...payload, sentAt }), publishOptions),
    async cleanup() {
      await publisher.close()
      await connectionManager.close()
      await admin.drop([queue], [exchange])
    },
  })
}

// ---- Redis ---------------------------------------------------------------------------------------

async function rawRedis(): Promise<BenchSide> {
  const namespace = `peersraw${randomUUID().slice(0, 8)}`
  const stream = `{${namespace}}:events`
  const client = new Redis(REDIS_URL)
  await client.call('XGROUP', 'CREATE', stream, 'group', '$', 'MKSTREAM')
  const payload = makePayload(1024)
  const publishOne = (data: Payload) => {
    const { id, text } = cloudEvent(data)
    return client.xadd(stream, '*', 'type', TYPE, 'id', id, 'body', text)
  }
  return benchSide('raw ioredis', {
    publishOne: () => publishOne(payload),
    afterPublish: () => client.xtrim(stream, 'MAXLEN', 0).then(() => {}),
    afterRun: () => client.xtrim(stream, 'MAXLEN', 0).then(() => {}),
    async consumer(onEvent) {
      const reader = client.duplicate()
      let running = true
      const loop = (async () => {
        while (running) {
          const reply = (await reader
            .call(
              'XREADGROUP',
              'GROUP',
              'group',
              'raw',
              'COUNT',
              PREFETCH,
              'BLOCK',
              200,
              'STREAMS',
              stream,
              '>',
            )
            .catch(() => null)) as [string, [string, string[]][]][] | null
          if (!reply) continue
          const ids: string[] = []
          for (const [, entries] of reply)
            for (const [id, fields] of entries) {
              onEvent((JSON.parse(fields[5]!) as { data: Payload }).data)
              ids.push(id)
            }
          void client.xack(stream, 'group', ...ids)
        }
      })()
      return async () => {
        running = false
        await loop
        reader.disconnect()
      }
    },
    publishStamped: (sentAt) => void publishOne({ ...payload, sentAt }),
    async cleanup() {
      await client.del(stream)
      client.disconnect()
    },
  })
}

async function tidingsRedis(): Promise<BenchSide> {
  const namespace = `peerstd${randomUUID().slice(0, 8)}`
  const newBus = (): Bus =>
    createBus({
      service: 'bench',
      transport: redisStreamsTransport({ url: REDIS_URL, namespace }),
      logger: silentLogger,
    })
  const listenOptions = { name: 'group', concurrency: PREFETCH, retry: false as const }
  const publisher = newBus()
  const creator = newBus()
  creator.listen('bench.#', () => {}, listenOptions)
  await creator.start()
  await creator.close()
  const admin = new Redis(REDIS_URL)
  const stream = `{${namespace}}:events`
  const payload = makePayload(1024)
  return benchSide('Tidings', {
    publishOne: () => publisher.publish(TYPE, payload),
    afterPublish: () => admin.xtrim(stream, 'MAXLEN', 0).then(() => {}),
    consumer: tidingsConsumer<Payload>(newBus, listenOptions),
    publishStamped: (sentAt) => void publisher.publish(TYPE, { ...payload, sentAt }).catch(() => {}),
    async cleanup() {
      await publisher.close()
      const keys = await admin.keys(`{${namespace}}:*`)
      if (keys.length > 0) await admin.del(...keys)
      admin.disconnect()
    },
  })
}

// ---- run -----------------------------------------------------------------------------------------

interface Contender {
  readonly name: string
  readonly make: () => Promise<BenchSide>
}

/** Publish and end-to-end at 100 in flight, then latency at 1,000/s; interleaved, order rotated per run. */
async function compare(title: string, contenders: readonly Contender[]): Promise<void> {
  const sides: { name: string; side: BenchSide | undefined; failure?: string }[] = []
  for (const contender of contenders) {
    try {
      sides.push({ name: contender.name, side: await contender.make() })
    } catch (error) {
      sides.push({ name: contender.name, side: undefined, failure: (error as Error).message })
    }
  }
  const results = new Map<string, { publish: number[]; endToEnd: number[]; p50: number[]; p99: number[] }>()
  for (const { name } of sides) results.set(name, { publish: [], endToEnd: [], p50: [], p99: [] })
  const limit = { count: EVENTS, ms: LIMIT_MS }
  const started = now()
  const attempt = async (entry: (typeof sides)[number], work: (side: BenchSide) => Promise<void>) => {
    if (!entry.side || entry.failure) return
    try {
      await work(entry.side)
    } catch (error) {
      entry.failure = (error as Error).message
    }
  }
  for (const entry of sides) {
    await attempt(entry, async (side) => {
      await side.endToEnd(WINDOW, { count: EVENTS, ms: 300 })
    })
  }
  for (let run = 0; run < RUNS; run += 1) {
    const order = sides.map((_, i) => sides[(i + run) % sides.length]!)
    for (const entry of order) {
      const result = results.get(entry.name)!
      await attempt(entry, async (side) => {
        result.publish.push(await side.publish(WINDOW, limit))
      })
      await attempt(entry, async (side) => {
        result.endToEnd.push(await side.endToEnd(WINDOW, limit))
      })
      await attempt(entry, async (side) => {
        const { p50, p99 } = await side.latency(LATENCY_EVENTS)
        result.p50.push(p50)
        result.p99.push(p99)
      })
    }
  }
  for (const entry of sides) await attempt(entry, (side) => side.cleanup())
  const rate = (values: number[]) =>
    values.length === 0
      ? 'n/a'
      : `${Math.round(median(values)).toLocaleString('en-US')} (${Math.round(Math.min(...values)).toLocaleString('en-US')}–${Math.round(Math.max(...values)).toLocaleString('en-US')})`
  const ms = (values: number[]) =>
    values.length === 0
      ? 'n/a'
      : `${median(values).toFixed(2)} (${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)})`
  console.log(
    [
      `### ${title} (1 KiB events, ${WINDOW} publishes in flight, prefetch/in-flight ${PREFETCH}; each throughput run ${LIMIT_MS} ms or ${EVENTS.toLocaleString('en-US')} events; latency over ${LATENCY_EVENTS.toLocaleString('en-US')} events at 1,000/s; median (min–max) of ${RUNS} runs; Node ${process.version}; ${((now() - started) / 1000).toFixed(0)} s)`,
      '',
      '| library | publish msgs/s | end-to-end msgs/s | latency p50 ms | latency p99 ms |',
      '|---|---:|---:|---:|---:|',
      ...sides.map(({ name, failure }) => {
        const result = results.get(name)!
        const row = `| ${name} | ${rate(result.publish)} | ${rate(result.endToEnd)} | ${ms(result.p50)} | ${ms(result.p99)} |`
        return failure ? `${row} failed: ${failure.replaceAll('|', '/')} |` : row
      }),
      '',
    ].join('\n'),
  )
}

// A peer failing inside its own callbacks must not end the whole run: report it, then go on.
process.on('unhandledRejection', (reason) => {
  console.error(`bench:peers: unhandled rejection inside a library: ${(reason as Error)?.message ?? reason}`)
})

const targets = process.argv.slice(2).filter((argument) => !argument.startsWith('-'))
const wanted = (name: string) => targets.length === 0 || targets.includes(name)

if (wanted('amqp')) {
  await compare('RabbitMQ peers', [
    { name: 'raw amqplib, confirms', make: () => rawAmqp(true) },
    { name: 'Tidings (confirms)', make: tidingsAmqp },
    { name: 'raw amqplib, no confirms', make: () => rawAmqp(false) },
    { name: '@moleculer/channels AMQP (no confirms)', make: () => moleculer('amqp') },
    { name: '@message-queue-toolkit/amqp (no confirms)', make: messageQueueToolkit },
  ])
}
if (wanted('redis')) {
  await compare('Redis Streams peers', [
    { name: 'raw ioredis', make: rawRedis },
    { name: 'Tidings', make: tidingsRedis },
    { name: '@moleculer/channels Redis', make: () => moleculer('redis') },
  ])
}
