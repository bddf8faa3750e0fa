import {
  type AttemptFailure,
  ConfigError,
  type DeadLetterInstruction,
  type Delivery,
  type DeliveryHandler,
  type Logger,
  PublishError,
  type RetryInstruction,
  type SubscribeOptions,
} from '@tidings/core'
import { backOffDelay, type Leased, LeaseTracker, SettleOnce } from '@tidings/core/transport'
import type { Channel, ConsumeMessage } from 'amqplib'
import type { ConnectionManager } from './connection-manager.js'
import { bucketDelay, type WaitQueues } from './delays.js'
import { errorMessage } from './errors.js'
import type { GroupRegistry } from './group-registry.js'
import {
  carriedHeaders,
  copyProperties,
  encodeHistory,
  HEADER,
  headerString,
  readAttempt,
  readHistory,
} from './headers.js'
import { deliveryLimitFor, type ResolvedOptions } from './options.js'
import type { Publisher } from './publisher.js'
import { declareGroup, type GroupTopology, type Names } from './topology.js'

export interface ConsumerDependencies {
  readonly connection: ConnectionManager
  readonly publisher: Publisher
  readonly waitQueues: WaitQueues
  readonly registry: GroupRegistry
  readonly names: Names
  readonly options: ResolvedOptions
  readonly logger: () => Logger
}

/**
 * One subscription: a channel of its own (so its prefetch is its own and another operation's
 * channel error cannot stop it), restored after a channel error or a reconnection. Deliveries
 * remember the channel they came on: delivery tags are per channel, so a delivery whose channel
 * died is not settled on the new one (the broker has already given it back to the group).
 */
export class GroupConsumer {
  readonly queue: string
  private readonly topology: GroupTopology
  private readonly prefetch: number
  private channel: Channel | undefined
  private consumerTag: string | undefined
  private opening: Promise<void> | undefined
  private stopped = false
  private restartAttempt = 0
  private restartTimer: NodeJS.Timeout | undefined
  private unregister: (() => void) | undefined
  private readonly deadChannels = new WeakSet<Channel>()
  private tagSequence = 0
  /**
   * Client-side leases: an open channel holds an unacknowledged message for ever, so a live process
   * whose handler stalls (core stops renewing) would keep it. A lapsed lease hands a copy to the group.
   */
  readonly leases: LeaseTracker<AmqpDelivery>

  constructor(
    private readonly deps: ConsumerDependencies,
    readonly subscription: SubscribeOptions,
    private readonly onDelivery: DeliveryHandler,
  ) {
    this.queue = deps.names.groupQueue(subscription.group)
    this.topology = {
      group: subscription.group,
      patterns: subscription.patterns,
      durable: subscription.durable,
      queueType: deps.options.queueType,
      deliveryLimit: deliveryLimitFor(deps.options, subscription.maxAttempts),
    }
    this.prefetch = Math.min(deps.options.prefetch ?? subscription.concurrency, subscription.concurrency)
    this.leases = new LeaseTracker(subscription.ackTimeoutMs, (delivery) => delivery.lapse())
  }

  get group(): string {
    return this.subscription.group
  }

  get durable(): boolean {
    return this.subscription.durable
  }

  /** Declare the group and start consuming; rejects if the group cannot be declared. */
  async start(): Promise<void> {
    await this.open(Date.now() + this.deps.options.publishTimeoutMs)
    this.unregister = this.deps.connection.onReady(async () => {
      await this.ensureConsuming()
    })
  }

  /** Stop fetching; deliveries already handed out can still be settled. */
  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    this.unregister?.()
    clearTimeout(this.restartTimer)
    await this.opening?.catch(() => {})
    const { channel, consumerTag } = this
    if (channel && consumerTag && !this.deadChannels.has(channel))
      await channel.cancel(consumerTag).catch(() => {})
  }

  /** Stop, then close the channel: the broker gives every unsettled delivery back to the group. */
  async close(): Promise<void> {
    await this.stop()
    this.leases.stop()
    const channel = this.channel
    this.channel = undefined
    if (channel && !this.deadChannels.has(channel)) await channel.close().catch(() => {})
  }

  // ---- settling, called by AmqpDelivery -------------------------------------------------------

  ack(channel: Channel, message: ConsumeMessage): void {
    if (this.deadChannels.has(channel)) {
      this.deps
        .logger()
        .debug({ group: this.group }, 'amqp: channel gone before ack; the broker redelivers the message')
      return
    }
    try {
      channel.ack(message)
    } catch (error) {
      this.deps.logger().debug({ group: this.group, error: errorMessage(error) }, 'amqp: ack failed')
    }
  }

  /** Give a delivery back at once (its retry or dead-letter copy could not be stored). */
  requeue(channel: Channel, message: ConsumeMessage): void {
    if (this.deadChannels.has(channel)) return
    try {
      channel.nack(message, false, true)
    } catch (error) {
      this.deps.logger().debug({ group: this.group, error: errorMessage(error) }, 'amqp: nack failed')
    }
  }

  /**
   * A stalled handler's lease lapsed: another process of the group gets a copy at once, counted as a
   * redelivery. The original stays unacknowledged on this channel until core settles it, so it keeps
   * its prefetch slot and the copy goes elsewhere; its late settlement only acknowledges it.
   */
  async publishTakeover(message: ConsumeMessage, attempt: number): Promise<void> {
    await this.publishRetry(
      message,
      { delayMs: 0, attempt: attempt + 1, history: readHistory(message.properties.headers) },
      { [HEADER.redelivered]: 'true' },
    )
  }

  async publishRetry(
    message: ConsumeMessage,
    instruction: RetryInstruction,
    extraHeaders: Record<string, string> = {},
  ): Promise<void> {
    const headers = { ...carriedHeaders(message.properties.headers), ...extraHeaders }
    headers[HEADER.attempt] = instruction.attempt
    if (instruction.history.length > 0) headers[HEADER.history] = encodeHistory(instruction.history)
    const options = copyProperties(message, headers)
    const delayMs = bucketDelay(instruction.delayMs)
    const deadline = Date.now() + this.deps.options.publishTimeoutMs
    const { publisher, waitQueues, names } = this.deps
    for (let round = 0; round < 2; round += 1) {
      if (delayMs === 0) {
        const routed = await publisher.publish({
          exchange: names.retry,
          routingKey: this.group,
          body: message.content,
          options,
          mandatory: true,
        })
        if (routed) return
        await this.redeclare(deadline)
      } else {
        const queue = await waitQueues.ensure(this.group, delayMs, deadline)
        const routed = await publisher.publish({
          exchange: '',
          routingKey: queue,
          body: message.content,
          options,
          mandatory: true,
        })
        if (routed) return
        waitQueues.forget(queue)
      }
    }
    throw new PublishError(
      `The retry of a message of group "${this.group}" could not be routed back to its queue.`,
    )
  }

  async publishDeadLetter(message: ConsumeMessage, record: DeadLetterInstruction): Promise<void> {
    const headers = carriedHeaders(message.properties.headers)
    headers[HEADER.id] = record.id
    if (record.type !== undefined) headers[HEADER.type] = record.type
    headers[HEADER.group] = this.group
    headers[HEADER.history] = encodeHistory(record.history)
    headers[HEADER.reason] = record.reason.slice(0, 2000)
    headers[HEADER.deadLetteredAt] = new Date().toISOString()
    const options = copyProperties(message, headers)
    options.messageId ??= record.id
    const deadline = Date.now() + this.deps.options.publishTimeoutMs
    for (let round = 0; round < 2; round += 1) {
      const routed = await this.deps.publisher.publish({
        exchange: this.deps.names.deadLetter,
        routingKey: this.group,
        body: message.content,
        options,
        mandatory: true,
      })
      if (routed) return
      await this.redeclare(deadline)
    }
    throw new PublishError(
      `The dead-letter queue of group "${this.group}" is missing and could not be declared again.`,
    )
  }

  // ---- lifecycle ------------------------------------------------------------------------------

  private ensureConsuming(): Promise<void> {
    if (this.stopped || (this.channel && !this.deadChannels.has(this.channel))) return Promise.resolve()
    return this.open(Date.now() + this.deps.options.publishTimeoutMs).catch((error: unknown) => {
      this.deps
        .logger()
        .warn({ group: this.group, error: errorMessage(error) }, 'amqp: could not resume consuming')
      this.scheduleRestart()
    })
  }

  private open(deadline: number): Promise<void> {
    this.opening ??= this.consume(deadline).finally(() => {
      this.opening = undefined
    })
    return this.opening
  }

  private async consume(deadline: number): Promise<void> {
    const { connection } = this.deps
    const model = await connection.waitForConnection(deadline, 'subscribe')
    await this.redeclare(deadline)
    const channel = await model.createChannel()
    channel.on('error', (error: unknown) =>
      this.deps
        .logger()
        .warn(
          { group: this.group, error: errorMessage(error) },
          'amqp: consuming channel closed by the broker',
        ),
    )
    channel.on('close', () => this.onChannelClose(channel))
    try {
      await channel.prefetch(this.prefetch)
      const { consumerTag } = await channel.consume(
        this.queue,
        (message) => this.onMessage(channel, message),
        {
          noAck: false,
          consumerTag: `${this.subscription.consumerName}.${++this.tagSequence}`,
        },
      )
      this.channel = channel
      this.consumerTag = consumerTag
      this.restartAttempt = 0
    } catch (error) {
      await channel.close().catch(() => {})
      throw error
    }
    if (this.stopped) await channel.cancel(this.consumerTag).catch(() => {})
  }

  /** Declares the group's queues and bindings on a throwaway channel. */
  private async redeclare(deadline: number): Promise<void> {
    try {
      await this.deps.connection.withChannel(deadline, 'subscribe', async (channel) => {
        await declareGroup(channel, this.deps.names, this.topology)
        await this.deps.registry.register(channel, { group: this.group })
      })
    } catch (error) {
      if (/PRECONDITION_FAILED|inequivalent arg/.test(errorMessage(error))) {
        throw new ConfigError(
          `RabbitMQ already has the queues of group "${this.group}" with other settings (${errorMessage(error)}): use the same queueType as before, or delete the queues "${this.queue}" and "${this.deps.names.deadLetterQueue(this.group)}" (their messages are lost) to change it.`,
          { cause: error },
        )
      }
      throw error
    }
  }

  private onChannelClose(channel: Channel): void {
    this.deadChannels.add(channel)
    if (channel !== this.channel) return
    this.channel = undefined
    this.consumerTag = undefined
    if (this.stopped || this.deps.connection.isClosed) return
    // If the whole connection went, the ConnectionManager restores us once reconnected; if only
    // this channel closed (a channel error), reopen it after a back-off.
    this.scheduleRestart()
  }

  private scheduleRestart(): void {
    if (this.stopped || this.restartTimer) return
    this.restartAttempt += 1
    this.restartTimer = setTimeout(
      () => {
        this.restartTimer = undefined
        if (this.stopped || !this.deps.connection.current) return
        void this.ensureConsuming()
      },
      backOffDelay(this.restartAttempt, this.deps.options.reconnect),
    )
  }

  private onMessage(channel: Channel, message: ConsumeMessage | null): void {
    if (message === null) {
      // The broker cancelled the consumer (queue deleted): reopen, which re-declares the queue.
      this.deps
        .logger()
        .warn({ group: this.group }, 'amqp: the broker cancelled the consumer; declaring the queue again')
      void channel.close().catch(() => {})
      return
    }
    const delivery = new AmqpDelivery(this, channel, message)
    this.onDelivery(delivery).catch((error: unknown) =>
      this.deps
        .logger()
        .error({ group: this.group, error: errorMessage(error) }, 'amqp: delivery handler failed'),
    )
  }

  readAttempt(message: ConsumeMessage): number {
    return readAttempt(message, this.subscription.durable ? this.deps.options.queueType : 'classic')
  }

  warnTakeoverFailed(error: unknown): void {
    this.deps
      .logger()
      .warn(
        { group: this.group, error: errorMessage(error) },
        'amqp: a lapsed lease could not be handed over as a copy; the message was given back instead',
      )
  }

  get logger(): Logger {
    return this.deps.logger()
  }
}

/** One message handed to core; settles exactly once (later calls are ignored with a warning). */
class AmqpDelivery implements Delivery, Leased {
  readonly body: Buffer
  readonly attempt: number
  readonly redelivered: boolean
  leaseUntil = 0
  /** The kit's one double-settle rule: the first settlement wins, a second is ignored with a warning. */
  private readonly settlement = new SettleOnce()
  /** Its lease lapsed and a copy went to the group: a late settlement only acknowledges this one. */
  private lapsed = false
  private parsedHistory: readonly AttemptFailure[] | undefined

  constructor(
    private readonly consumer: GroupConsumer,
    private readonly channel: Channel,
    private readonly message: ConsumeMessage,
  ) {
    this.body = message.content
    this.redelivered =
      message.fields.redelivered || headerString(message.properties.headers, HEADER.redelivered) === 'true'
    this.attempt = consumer.readAttempt(message)
    consumer.leases.hold(this)
  }

  get leaseEnded(): boolean {
    return this.settlement.settled || this.lapsed
  }

  extendLease(): Promise<void> {
    if (!this.leaseEnded) this.consumer.leases.hold(this)
    return Promise.resolve()
  }

  lapse(): void {
    if (this.leaseEnded) return
    this.lapsed = true
    this.consumer.publishTakeover(this.message, this.attempt).catch((error: unknown) => {
      // No copy: give the original back instead, so the group gets it either way.
      this.consumer.requeue(this.channel, this.message)
      this.consumer.warnTakeoverFailed(error)
    })
  }

  /** The late outcome of a handler whose lease lapsed: the copy carries on; this one is done. */
  /** True when its lease lapsed: then only the first late settlement acknowledges the original. */
  private settleLapsed(): boolean {
    if (!this.lapsed) return false
    if (this.settlement.claim('late settlement', this.consumer.logger, this.consumer.group))
      this.consumer.ack(this.channel, this.message)
    return true
  }

  get history(): readonly AttemptFailure[] {
    this.parsedHistory ??= readHistory(this.message.properties.headers)
    return this.parsedHistory
  }

  ack(): Promise<void> {
    if (this.settleLapsed()) return Promise.resolve()
    if (this.claim('ack')) this.consumer.ack(this.channel, this.message)
    return Promise.resolve()
  }

  release(): Promise<void> {
    if (this.settleLapsed()) return Promise.resolve()
    if (this.claim('release')) this.consumer.requeue(this.channel, this.message)
    return Promise.resolve()
  }

  retry(instruction: RetryInstruction): Promise<void> {
    return this.moveThenAck('retry', () => this.consumer.publishRetry(this.message, instruction))
  }

  deadLetter(record: DeadLetterInstruction): Promise<void> {
    return this.moveThenAck('deadLetter', () => this.consumer.publishDeadLetter(this.message, record))
  }

  /** At-least-once: the confirmed copy first, then the ack; if the copy fails the original goes back. */
  private async moveThenAck(operation: string, publishCopy: () => Promise<void>): Promise<void> {
    if (this.settleLapsed()) return
    if (!this.claim(operation)) return
    try {
      await publishCopy()
    } catch (error) {
      this.consumer.requeue(this.channel, this.message)
      throw error
    }
    this.consumer.ack(this.channel, this.message)
  }

  private claim(operation: string): boolean {
    return this.settlement.claim(operation, this.consumer.logger, this.consumer.group)
  }
}
