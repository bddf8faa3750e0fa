import { randomBytes } from 'node:crypto'
import { DeleteTopicCommand, ListTopicsCommand, SNSClient } from '@aws-sdk/client-sns'
import { DeleteQueueCommand, ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs'
import { jetstreamManager } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import { type Bus, createBus, silentLogger, type Transport } from '@tidings/core'
import { amqpTransport } from '@tidings/transport-amqp'
import { natsTransport } from '@tidings/transport-nats'
import { redisStreamsTransport } from '@tidings/transport-redis-streams'
import { sqsTransport } from '@tidings/transport-sqs'
import amqp from 'amqplib'
import { Redis } from 'ioredis'
import { inject } from 'vitest'

declare module 'vitest' {
  export interface ProvidedContext {
    sqsEndpoint: string
  }
}

export const AMQP_URL = process.env.TIDINGS_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672'
export const REDIS_URL = process.env.TIDINGS_REDIS_URL ?? 'redis://127.0.0.1:6379'
export const NATS_URL = process.env.TIDINGS_NATS_URL ?? 'nats://127.0.0.1:4222'
/** The fauxqs emulator the test run started (scripts/sqs-emulator.ts). */
const SQS_ENDPOINT = inject('sqsEndpoint')
const AWS_ENVIRONMENT = { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' }
const sqsClientConfig = {
  region: 'us-east-1',
  endpoint: SQS_ENDPOINT,
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
}

/** One broker the CLI is tested on: its URL for a namespace, a bus on it, and a clean-up. */
export interface Broker {
  readonly name: string
  url(namespace: string): string
  /** What else the bin needs in its environment (an SDK's credentials). */
  readonly env?: Readonly<Record<string, string>>
  bus(namespace: string, service: string): Bus
  cleanup(namespace: string): Promise<void>
}

export function newNamespace(): string {
  return `cli${randomBytes(5).toString('hex')}`
}

const amqpTransports = new Map<string, Transport[]>()

export const BROKERS: readonly Broker[] = [
  {
    name: 'RabbitMQ',
    url: (namespace) => `${AMQP_URL}?namespace=${namespace}`,
    bus(namespace, service) {
      const transport = amqpTransport({ url: AMQP_URL, namespace })
      amqpTransports.set(namespace, [...(amqpTransports.get(namespace) ?? []), transport])
      return createBus({ service, transport, logger: silentLogger, drainTimeoutMs: 1000 })
    },
    async cleanup(namespace) {
      const queues = new Set<string>()
      for (const transport of amqpTransports.get(namespace) ?? []) {
        const resources = (
          transport as unknown as { declaredResources(): { queues: string[] } }
        ).declaredResources()
        for (const queue of resources.queues) queues.add(queue)
      }
      amqpTransports.delete(namespace)
      const connection = await amqp.connect(AMQP_URL)
      const channel = await connection.createChannel()
      for (const queue of queues) await channel.deleteQueue(queue)
      for (const exchange of ['events', 'retry', 'dlx'])
        await channel.deleteExchange(`${namespace}.${exchange}`)
      await connection.close()
    },
  },
  {
    name: 'Redis Streams',
    url: (namespace) => `${REDIS_URL}?namespace=${namespace}`,
    bus: (namespace, service) =>
      createBus({
        service,
        transport: redisStreamsTransport({ url: REDIS_URL, namespace }),
        logger: silentLogger,
        drainTimeoutMs: 1000,
      }),
    async cleanup(namespace) {
      const client = new Redis(REDIS_URL)
      const keys = await client.keys(`{${namespace}}:*`)
      if (keys.length > 0) await client.del(...keys)
      client.disconnect()
    },
  },
  {
    name: 'NATS JetStream',
    url: (namespace) => `${NATS_URL}?namespace=${namespace}`,
    bus: (namespace, service) =>
      createBus({
        service,
        transport: natsTransport({ url: NATS_URL, namespace }),
        logger: silentLogger,
        drainTimeoutMs: 1000,
      }),
    async cleanup(namespace) {
      const connection = await connect({ servers: new URL(NATS_URL).host, maxReconnectAttempts: 3 })
      try {
        const streams = await jetstreamManager(connection)
        for (const stream of [`${namespace}-events`, `${namespace}-dead-letters`])
          await streams.streams.delete(stream).catch(() => {})
      } finally {
        await connection.close()
      }
    },
  },
  {
    name: 'SQS/SNS (fauxqs)',
    // Short long polls, so a tail stops at once; the SDK's credentials come from the environment.
    url: (namespace) =>
      `sqs://us-east-1?endpoint=${encodeURIComponent(SQS_ENDPOINT)}&namespace=${namespace}&waitTimeSeconds=1`,
    env: AWS_ENVIRONMENT,
    bus: (namespace, service) =>
      createBus({
        service,
        transport: sqsTransport({ ...sqsClientConfig, namespace, waitTimeSeconds: 1 }),
        logger: silentLogger,
        drainTimeoutMs: 1000,
      }),
    async cleanup(namespace) {
      const sqs = new SQSClient(sqsClientConfig)
      const sns = new SNSClient(sqsClientConfig)
      const { QueueUrls = [] } = await sqs.send(new ListQueuesCommand({ QueueNamePrefix: `${namespace}-` }))
      for (const url of QueueUrls) await sqs.send(new DeleteQueueCommand({ QueueUrl: url })).catch(() => {})
      const { Topics = [] } = await sns.send(new ListTopicsCommand({}))
      for (const topic of Topics.filter((each) => each.TopicArn?.endsWith(`:${namespace}-events`)))
        await sns.send(new DeleteTopicCommand({ TopicArn: topic.TopicArn })).catch(() => {})
      sqs.destroy()
      sns.destroy()
    },
  },
]
