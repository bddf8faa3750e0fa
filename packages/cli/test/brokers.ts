import { randomBytes } from 'node:crypto'
import { type Bus, createBus, silentLogger, type Transport } from '@tidings/core'
import { amqpTransport } from '@tidings/transport-amqp'
import { redisStreamsTransport } from '@tidings/transport-redis-streams'
import amqp from 'amqplib'
import { Redis } from 'ioredis'

export const AMQP_URL = process.env.TIDINGS_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672'
export const REDIS_URL = process.env.TIDINGS_REDIS_URL ?? 'redis://127.0.0.1:6379'

/** One broker the CLI is tested on: its URL for a namespace, a bus on it, and a clean-up. */
export interface Broker {
  readonly name: string
  url(namespace: string): string
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
]
