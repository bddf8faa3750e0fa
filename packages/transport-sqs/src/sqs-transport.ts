import { SNSClient } from '@aws-sdk/client-sns'
import { GetQueueAttributesCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs'
import {
  assertGroupName,
  assertSubscribeOptions,
  backOffDelay,
  ConfigError,
  ConnectionError,
  type DeliveryHandler,
  GroupNotFoundError,
  type GroupStatus,
  type Logger,
  type OutgoingMessage,
  redactUrl,
  type SubscribeOptions,
  type Subscription,
  showOnly,
  silentLogger,
  type Transport,
  type TransportCapabilities,
  TransportClosedError,
  type TransportContext,
  type TransportDeadLetters,
} from '@tidings/core/transport'
import { SqsDeadLetters } from './dead-letters.js'
import { EphemeralQueues } from './ephemeral-queues.js'
import { GroupConsumer } from './group-consumer.js'
import { eventAttributes, fifoFields, MAX_VISIBILITY_SECONDS } from './message-fields.js'
import { Names } from './names.js'
import { type ResolvedOptions, resolveOptions, type SqsTransportOptions } from './options.js'
import { Publisher } from './publisher.js'
import { REQUEST_BACK_OFF } from './request-back-off.js'
import { isMissingQueue, Topology } from './topology.js'

/** AWS refused the request (credentials, permissions): trying again will not help. */
function isRefusal(error: unknown): boolean {
  const name = (error as Error)?.name ?? ''
  return /AccessDenied|InvalidClientTokenId|SignatureDoesNotMatch|UnrecognizedClient|AuthorizationError/.test(
    name,
  )
}

/** Bytes of attempt history a retry or dead letter carries in its message attribute. */
const HISTORY_BYTES = 8 * 1024

/**
 * The AWS SNS + SQS transport. See README.md for the mapping.
 *
 * ```ts
 * createBus({ service: 'shipping', transport: sqsTransport({ region: 'eu-west-1' }) })
 * ```
 */
export function sqsTransport(options: SqsTransportOptions): Transport {
  return new SqsTransport(resolveOptions(options))
}

/** What SQS can promise, in either mode. */
function capabilities(fifo: boolean): TransportCapabilities {
  return Object.freeze({
    // Standard: 15 minutes of DelaySeconds, then visibility changes on receipt. FIFO: the message
    // itself is hidden until due. 12 hours at most either way.
    maxDelayMs: MAX_VISIBILITY_SECONDS * 1000,
    historyBytes: HISTORY_BYTES,
    // FIFO queues take no per-message delay, and a delayed copy would lose its key's place: a retry
    // hides the same message, so its attempt is SQS's receive count and only the last failure is kept.
    retryCarriesHistory: !fifo,
    // Listing receives the messages (their receive counts go up) and shows them again at once.
    deadLetterBrowsing: 'approximate',
    // Standard queues do not keep order; FIFO queues do, per message group (the key).
    orderingByKey: fifo,
    crashRecovery: true,
    durableGroups: true,
    ephemeralGroups: true,
    // SQS counts visible, in-flight and delayed messages; it knows no consumers. In FIFO mode a
    // waiting retry is an in-flight (hidden) message: the two cannot be told apart.
    groupCounters: { inFlight: !fifo, waitingRetries: !fifo, consumers: false },
    readAhead: () => 0,
  })
}

export class SqsTransport implements Transport {
  readonly name = 'sqs'
  readonly capabilities: TransportCapabilities
  readonly maxMessageBytes: number
  private readonly names: Names
  private readonly sqs: SQSClient
  private readonly sns: SNSClient
  private readonly topology: Topology
  private readonly publisher: Publisher
  private readonly consumers = new Set<GroupConsumer>()
  private logger: Logger = silentLogger
  private state: 'new' | 'open' | 'closed' = 'new'
  private readonly ephemeral: EphemeralQueues
  private sweeping: Promise<void> = Promise.resolve()

  constructor(readonly options: ResolvedOptions) {
    this.maxMessageBytes = options.maxMessageBytes
    this.capabilities = capabilities(options.fifo)
    this.names = new Names(options.namespace, options.fifo)
    const config = {
      region: options.region,
      // Without a timeout a request to an endpoint that stopped answering waits forever.
      requestHandler: { connectionTimeout: 5_000, requestTimeout: (options.waitTimeSeconds + 10) * 1000 },
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      ...(options.credentials ? { credentials: options.credentials } : {}),
      ...options.clientConfig,
    }
    this.sqs = new SQSClient(config)
    this.sns = new SNSClient(config)
    this.topology = new Topology(this.sqs, this.sns, this.names)
    this.ephemeral = new EphemeralQueues(this.sqs, this.topology, this.names, () => this.logger)
    this.publisher = new Publisher(
      this.sns,
      () => this.topology.topic(),
      options.publishTimeoutMs,
      options.fifo,
      () => this.logger,
    )
    showOnly(this, 'SqsTransport', () => ({
      name: this.name,
      region: options.region,
      endpoint: options.endpoint ? redactUrl(options.endpoint) : undefined,
      namespace: options.namespace,
      fifo: options.fifo,
    }))
  }

  async connect(context: TransportContext): Promise<void> {
    if (this.state === 'closed') throw new TransportClosedError('connect')
    if (this.state === 'open') throw new ConfigError('connect() was already called on this SQS transport.')
    this.logger = context.logger
    // The topic every publish goes to; also proves the endpoint answers, within publishTimeoutMs.
    const deadline = Date.now() + this.options.publishTimeoutMs
    for (let attempt = 1; ; attempt += 1) {
      const pause = backOffDelay(attempt, REQUEST_BACK_OFF)
      try {
        await this.topology.topic(AbortSignal.timeout(Math.max(1, deadline - Date.now())))
        break
      } catch (error) {
        if (Date.now() + pause >= deadline || isRefusal(error)) {
          throw new ConnectionError(
            `Could not reach SNS/SQS in ${this.options.region}${this.options.endpoint ? ` at ${redactUrl(this.options.endpoint)}` : ''} within ${this.options.publishTimeoutMs} ms (${(error as Error)?.message ?? String(error)}): check the region, endpoint and credentials.`,
            { cause: error, ...(isRefusal(error) ? { authentication: true } : {}) },
          )
        }
        await new Promise((resolve) => setTimeout(resolve, pause))
      }
    }
    this.state = 'open'
    this.sweeping = this.ephemeral.sweep().then(
      (removed) => {
        if (removed > 0)
          this.logger.info({ removed }, 'sqs: removed expired ephemeral queues of crashed processes')
      },
      (error: unknown) =>
        this.logger.debug(
          { error: (error as Error)?.message },
          'sqs: looking for expired ephemeral queues failed',
        ),
    )
  }

  publish(message: OutgoingMessage): Promise<void> {
    if (this.state === 'closed') return Promise.reject(new TransportClosedError('publish'))
    return this.publisher.publish(message)
  }

  async subscribe(options: SubscribeOptions, onDelivery: DeliveryHandler): Promise<Subscription> {
    if (this.state === 'closed') throw new TransportClosedError('subscribe')
    assertSubscribeOptions(options, this.name)
    const visibilitySeconds = Math.min(
      MAX_VISIBILITY_SECONDS,
      Math.max(1, Math.ceil(options.ackTimeoutMs / 1000)),
    )
    const { queueUrl, deadLetterUrl } = await this.topology.declareGroup({
      group: options.group,
      patterns: options.patterns,
      tags: options.durable ? undefined : this.ephemeral.tags(),
      visibilitySeconds,
      // The crash-loop net above core's own check; SQS allows at most 1,000.
      maxReceiveCount: Number.isFinite(options.maxAttempts)
        ? Math.min(1000, options.maxAttempts + 2)
        : undefined,
    })
    const consumer = new GroupConsumer(
      {
        sqs: this.sqs,
        queueUrl,
        deadLetterUrl,
        visibilitySeconds,
        waitTimeSeconds: this.options.waitTimeSeconds,
        fifo: this.options.fifo,
        logger: () => this.logger,
      },
      options,
      onDelivery,
    )
    consumer.start()
    this.consumers.add(consumer)
    if (!options.durable) this.ephemeral.track(options.group)
    return consumer
  }

  deadLetters(group: string): TransportDeadLetters {
    assertGroupName(group, 'sqs deadLetters(group)')
    return new SqsDeadLetters(
      this.sqs,
      this.topology,
      this.names.deadLetterQueue(group),
      this.names.groupQueue(group),
      group,
      this.options.fifo,
    )
  }

  async sendToGroup(group: string, message: OutgoingMessage): Promise<void> {
    if (this.state === 'closed') throw new TransportClosedError('sendToGroup')
    assertGroupName(group, 'sqs sendToGroup(group)')
    let url: string
    try {
      url = await this.topology.queueUrl(this.names.groupQueue(group))
    } catch (error) {
      if (isMissingQueue(error)) throw new GroupNotFoundError(group, this.name)
      throw error
    }
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: url,
        MessageBody: message.text,
        MessageAttributes: eventAttributes(message.type, message.key),
        ...fifoFields(this.options.fifo, message, 'fresh'),
      }),
    )
  }

  async inspectGroups(): Promise<GroupStatus[]> {
    if (this.state === 'closed') throw new TransportClosedError('inspectGroups')
    const urls = await this.topology.listQueueUrls()
    const groups = urls
      .map((url) => this.names.groupOf(decodeURIComponent(url.split('/').pop() ?? '')))
      .filter((group): group is string => group !== undefined)
    const statuses = await Promise.all(
      groups.map(async (group): Promise<GroupStatus> => {
        const queue = await this.counters(this.names.groupQueue(group))
        const deadLetters = await this.counters(this.names.deadLetterQueue(group))
        return {
          group,
          pending: queue.visible,
          inFlight: this.options.fifo ? undefined : queue.notVisible,
          waitingRetries: this.options.fifo ? undefined : queue.delayed,
          deadLetters: deadLetters.visible + deadLetters.notVisible,
          consumers: undefined,
        }
      }),
    )
    return statuses.sort((a, b) => (a.group < b.group ? -1 : a.group > b.group ? 1 : 0))
  }

  private async counters(name: string): Promise<{ visible: number; notVisible: number; delayed: number }> {
    try {
      const url = await this.topology.queueUrl(name)
      const out = await this.sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: url,
          AttributeNames: [
            'ApproximateNumberOfMessages',
            'ApproximateNumberOfMessagesNotVisible',
            'ApproximateNumberOfMessagesDelayed',
          ],
        }),
      )
      return {
        visible: Number(out.Attributes?.ApproximateNumberOfMessages ?? 0),
        notVisible: Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
        delayed: Number(out.Attributes?.ApproximateNumberOfMessagesDelayed ?? 0),
      }
    } catch (error) {
      if (isMissingQueue(error)) return { visible: 0, notVisible: 0, delayed: 0 }
      throw error
    }
  }

  async close(): Promise<void> {
    if (this.state === 'closed') return
    this.state = 'closed'
    const consumers = [...this.consumers]
    this.consumers.clear()
    await Promise.all(consumers.map((consumer) => consumer.stop()))
    await this.sweeping
    await this.ephemeral.removeAll()
    this.sqs.destroy()
    this.sns.destroy()
  }
}
