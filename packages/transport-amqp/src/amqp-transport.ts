import {
  ConfigError,
  type DeliveryHandler,
  GroupNotFoundError,
  type GroupStatus,
  type Logger,
  type OutgoingMessage,
  type SubscribeOptions,
  type Subscription,
  silentLogger,
  type Transport,
  type TransportCapabilities,
  TransportClosedError,
  type TransportContext,
  type TransportDeadLetters,
} from '@tidings/core'
import { assertGroupName, assertSubscribeOptions, redactUrl, showOnly } from '@tidings/core/transport'
import type { Options } from 'amqplib'
import { ConnectionManager } from './connection-manager.js'
import { GroupConsumer } from './consumer.js'
import { AmqpDeadLetters } from './dead-letters.js'
import { WaitQueues } from './delays.js'
import { errorMessage } from './errors.js'
import { GroupRegistry } from './group-registry.js'
import { CLOUDEVENTS_CONTENT_TYPE } from './headers.js'
import { type AmqpTransportOptions, type ResolvedOptions, resolveOptions } from './options.js'
import { Publisher } from './publisher.js'
import { Names } from './topology.js'

/**
 * The RabbitMQ transport. See README.md for the topology and the delay design.
 *
 * ```ts
 * createBus({ service: 'shipping', transport: amqpTransport({ url: 'amqp://localhost', queueType: 'quorum' }) })
 * ```
 */
export function amqpTransport(options: AmqpTransportOptions): Transport {
  return new AmqpTransport(resolveOptions(options))
}

/** What RabbitMQ can do with this topology (see the README for why each holds). */
const AMQP_CAPABILITIES: TransportCapabilities = Object.freeze({
  // A wait queue's x-message-ttl is an unsigned 32-bit number of milliseconds.
  maxDelayMs: 2 ** 32 - 1,
  // The history travels in a header table, which must fit one frame (128 KiB by default).
  historyBytes: 64 * 1024,
  retryCarriesHistory: true,
  deadLetterBrowsing: 'exact',
  // One queue per group, FIFO; with concurrency 1 and one process the order is the publish order.
  orderingByKey: true,
  // Closing a channel (a dead process) hands its unacknowledged deliveries back at once.
  crashRecovery: true,
  durableGroups: true,
  ephemeralGroups: true,
  // prefetch is min(prefetch, concurrency): the broker never hands over more than core runs.
  // AMQP 0-9-1 reports a queue's ready messages and consumers; unacknowledged ones only through the
  // management plugin's HTTP API, which this transport does not need.
  groupCounters: { inFlight: false, waitingRetries: true, consumers: true },
  readAhead: () => 0,
})

export class AmqpTransport implements Transport {
  readonly name = 'amqp'
  readonly capabilities = AMQP_CAPABILITIES
  readonly maxMessageBytes: number
  private readonly names: Names
  private readonly connection: ConnectionManager
  private readonly publisher: Publisher
  private readonly waitQueues: WaitQueues
  private readonly registry: GroupRegistry
  private readonly consumers = new Set<GroupConsumer>()
  private logger: Logger = silentLogger
  private notify: TransportContext['notify'] = () => {}
  private state: 'new' | 'connecting' | 'open' | 'closing' | 'closed' = 'new'
  private closing: Promise<void> | undefined

  constructor(readonly options: ResolvedOptions) {
    showOnly(this, 'AmqpTransport', () => ({
      name: this.name,
      url: redactUrl(options.url),
      namespace: options.namespace,
      queueType: options.queueType,
    }))
    this.maxMessageBytes = options.maxMessageBytes
    this.names = new Names(options.namespace)
    const getLogger = (): Logger => this.logger
    this.connection = new ConnectionManager(options, this.names, getLogger, (notice) => this.notify(notice))
    this.publisher = new Publisher(this.connection, options.publishTimeoutMs, getLogger)
    this.registry = new GroupRegistry(this.connection, this.names, options.publishTimeoutMs)
    this.waitQueues = new WaitQueues(this.connection, this.names, this.registry)
  }

  /** Queues and exchanges this transport declared so far (for cleanup in tests and tools). */
  declaredResources(): { readonly queues: readonly string[]; readonly exchanges: readonly string[] } {
    return { queues: [...this.names.declaredQueues], exchanges: this.names.exchanges }
  }

  async connect(context: TransportContext): Promise<void> {
    if (this.state !== 'new') {
      if (this.state === 'closing' || this.state === 'closed') throw new TransportClosedError('connect')
      throw new ConfigError(
        'The amqp transport is already connected: give each bus its own transport instance.',
      )
    }
    this.state = 'connecting'
    this.logger = context.logger
    this.notify = (notice) => {
      try {
        context.notify(notice)
      } catch (error) {
        this.logger.error({ error: errorMessage(error) }, 'amqp: notify() threw')
      }
    }
    try {
      await this.connection.connect()
    } catch (error) {
      // start() and publish() may try again once the broker is reachable (G12), as on Redis.
      this.state = 'new'
      throw error
    }
    await this.publisher.warmUp()
    this.state = 'open'
  }

  async publish(message: OutgoingMessage): Promise<void> {
    if (this.state === 'closing' || this.state === 'closed') throw new TransportClosedError('publish')
    const options: Options.Publish = {
      persistent: true,
      contentType: CLOUDEVENTS_CONTENT_TYPE,
      messageId: message.id,
      type: message.type,
    }
    await this.publisher.publish({
      exchange: this.names.events,
      routingKey: message.type,
      body: message.body,
      options,
    })
  }

  async subscribe(options: SubscribeOptions, onDelivery: DeliveryHandler): Promise<Subscription> {
    if (this.state === 'closing' || this.state === 'closed') throw new TransportClosedError('subscribe')
    assertSubscribeOptions(options, this.name)
    const consumer = new GroupConsumer(
      {
        connection: this.connection,
        publisher: this.publisher,
        waitQueues: this.waitQueues,
        registry: this.registry,
        names: this.names,
        options: this.options,
        logger: () => this.logger,
      },
      options,
      onDelivery,
    )
    this.consumers.add(consumer)
    try {
      await consumer.start()
    } catch (error) {
      this.consumers.delete(consumer)
      await consumer.close()
      throw error
    }
    return { stop: () => consumer.stop() }
  }

  deadLetters(group: string): TransportDeadLetters {
    assertGroupName(group, 'amqp deadLetters(group)')
    return new AmqpDeadLetters(
      {
        connection: this.connection,
        publisher: this.publisher,
        names: this.names,
        publishTimeoutMs: this.options.publishTimeoutMs,
        queueType: this.options.queueType,
        logger: () => this.logger,
      },
      group,
    )
  }

  async sendToGroup(group: string, message: OutgoingMessage): Promise<void> {
    if (this.state === 'closing' || this.state === 'closed') throw new TransportClosedError('sendToGroup')
    assertGroupName(group, 'amqp sendToGroup(group)')
    // Through the retry exchange, bound to this group's queue alone; no attempt headers: attempt 1.
    const routed = await this.publisher.publish({
      exchange: this.names.retry,
      routingKey: group,
      body: message.body,
      options: {
        persistent: true,
        contentType: CLOUDEVENTS_CONTENT_TYPE,
        messageId: message.id,
        type: message.type,
      },
      mandatory: true,
    })
    if (!routed) throw new GroupNotFoundError(group, this.name)
  }

  async inspectGroups(): Promise<GroupStatus[]> {
    if (this.state === 'closing' || this.state === 'closed') throw new TransportClosedError('inspectGroups')
    return this.registry.inspect()
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown()
    return this.closing
  }

  private async shutdown(): Promise<void> {
    this.state = 'closing'
    const consumers = [...this.consumers]
    // Stop fetching first, let outstanding confirms (retries, dead letters, publishes) land.
    await Promise.all(consumers.map((consumer) => consumer.stop()))
    await this.publisher.flush(this.options.publishTimeoutMs)
    // Closing the channels hands every unsettled delivery back to the broker (never acked here).
    await Promise.all(consumers.map((consumer) => consumer.close()))
    const ephemeral = consumers.filter((consumer) => !consumer.durable)
    if (ephemeral.length > 0 && this.connection.current) {
      await this.connection
        .withChannel(Date.now() + 2_000, 'remove ephemeral groups', async (channel) => {
          for (const consumer of ephemeral) {
            await channel.deleteQueue(consumer.queue)
            await channel.deleteQueue(this.names.deadLetterQueue(consumer.group))
          }
        })
        .catch((error: unknown) =>
          this.logger.debug(
            { error: errorMessage(error) },
            'amqp: removing ephemeral queues failed (they expire)',
          ),
        )
    }
    this.consumers.clear()
    await this.connection.close()
    this.state = 'closed'
  }
}
