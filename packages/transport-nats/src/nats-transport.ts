import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream'
import { type NatsConnection, nuid } from '@nats-io/transport-node'
import {
  assertGroupName,
  assertSubscribeOptions,
  atMost,
  ConfigError,
  type DeliveryHandler,
  GroupNotFoundError,
  type GroupStatus,
  type Logger,
  type OutgoingMessage,
  type SubscribeOptions,
  type Subscription,
  showOnly,
  type Transport,
  type TransportCapabilities,
  TransportClosedError,
  type TransportContext,
  type TransportDeadLetters,
} from '@tidings/core/transport'
import { type ConnectionTarget, connectionTarget, openConnection, watchStatus } from './connection.js'
import { NatsDeadLetters } from './dead-letters.js'
import { CLOSE_STEP_MS, GroupConsumer } from './group-consumer.js'
import { groupExists, inspectGroups } from './group-inspection.js'
import { retryHeaders } from './headers.js'
import { type NatsTransportOptions, type ResolvedOptions, resolveOptions } from './options.js'
import { JetStreamPublisher } from './publisher.js'
import { type NamespaceSubjects, namespaceSubjects } from './subjects.js'
import { Topology } from './topology.js'

/** Bytes of attempt history a retry copy or dead letter carries in its headers. */
const HISTORY_BYTES = 16 * 1024
/** Room for the other headers (msg id, attempt, due time, reason) beside the history. */
const HEADER_ROOM = 2 * 1024

/**
 * A Transport on NATS JetStream (nats.js v3). See the package README for the mapping.
 *
 * ```ts
 * const bus = createBus({ service: 'shipping', transport: natsTransport({ url: 'nats://127.0.0.1:4222' }) })
 * ```
 */
export function natsTransport(options: NatsTransportOptions): NatsTransport {
  return new NatsTransport(options)
}

export class NatsTransport implements Transport {
  readonly name = 'nats'
  readonly capabilities: TransportCapabilities
  private readonly options: ResolvedOptions
  private readonly target: ConnectionTarget
  private readonly subjects: NamespaceSubjects
  private connection: NatsConnection | undefined
  private js: JetStreamClient | undefined
  private jsm: JetStreamManager | undefined
  private publisher: JetStreamPublisher | undefined
  private topology: Topology | undefined
  private logger: Logger | undefined
  private multipleFilters = false
  private readonly consumers = new Set<GroupConsumer>()
  private state: 'new' | 'connecting' | 'connected' | 'closed' = 'new'
  private connecting: Promise<void> | undefined

  constructor(private readonly input: NatsTransportOptions) {
    this.options = resolveOptions(input)
    this.target = connectionTarget(input)
    this.subjects = namespaceSubjects(this.options.namespace)
    showOnly(this, 'NatsTransport', () => ({
      name: this.name,
      servers: this.target.where,
      namespace: this.options.namespace,
      state: this.state,
    }))
    const readAhead = this.options.readAhead
    this.capabilities = Object.freeze({
      // A retry copy waits in the events stream: its max age bounds the delay.
      maxDelayMs: this.options.maxAgeMs > 0 ? this.options.maxAgeMs : Number.POSITIVE_INFINITY,
      historyBytes: HISTORY_BYTES,
      retryCarriesHistory: true,
      deadLetterBrowsing: 'exact',
      // A pull consumer hands out its messages in stream order; processes of one group compete, so
      // the order holds per process, as the suite tests.
      orderingByKey: true,
      crashRecovery: true,
      durableGroups: true,
      ephemeralGroups: true,
      // A pull consumer knows no processes; see group-inspection.ts for what waiting retries count.
      groupCounters: { inFlight: true, waitingRetries: true, consumers: false },
      readAhead: (concurrency: number) =>
        (readAhead ?? concurrency) + GroupConsumer.retryLaneCapacity(concurrency),
    })
  }

  /** The server's max_payload once connected, less room for the retry and dead-letter headers. */
  get maxMessageBytes(): number {
    const serverLimit = (this.connection?.info?.max_payload ?? 1024 * 1024) - HISTORY_BYTES - HEADER_ROOM
    return Math.min(this.options.maxMessageBytes ?? serverLimit, serverLimit)
  }

  connect(context: TransportContext): Promise<void> {
    if (this.state !== 'new')
      return Promise.reject(new ConfigError('connect() was already called on this NATS transport.'))
    this.state = 'connecting'
    this.connecting = this.open(context).catch(async (error: unknown) => {
      await this.connection?.close().catch(() => {})
      this.connection = undefined
      if (this.state === 'connecting') this.state = 'new'
      throw error
    })
    return this.connecting
  }

  private async open(context: TransportContext): Promise<void> {
    this.logger = context.logger
    const connection = await openConnection(this.target, this.options, this.input.connectionOptions, context)
    this.connection = connection
    watchStatus(connection, context, () => this.state === 'closed')
    this.multipleFilters = supportsFilterSubjects(connection.info?.version)
    this.jsm = await jetstreamManager(connection, { timeout: 5000 }).catch((error: unknown) => {
      throw new ConfigError(
        `NATS at ${this.target.where} has no JetStream (${(error as Error).message}): start nats-server with -js.`,
        { cause: error },
      )
    })
    this.js = jetstream(connection, { timeout: 5000 })
    this.topology = new Topology(this.jsm, this.subjects, this.options, context.logger)
    await this.topology.declareStreams()
    this.publisher = new JetStreamPublisher(this.js, this.options.publishTimeoutMs)
    if (this.state === 'connecting') this.state = 'connected'
  }

  private async ready(operation: string): Promise<void> {
    if (this.state === 'connecting') await this.connecting!.catch(() => {})
    if (this.state !== 'connected') throw new TransportClosedError(operation)
  }

  async publish(message: OutgoingMessage): Promise<void> {
    if (this.state !== 'connected') await this.ready('publish')
    await this.publisher!.publish({
      subject: this.subjects.event(message.type),
      payload: message.body,
      msgID: message.id,
      what: () => `"${message.type}" (${message.id})`,
    })
  }

  async subscribe(options: SubscribeOptions, onDelivery: DeliveryHandler): Promise<Subscription> {
    assertSubscribeOptions(options, this.name)
    await this.ready('subscribe')
    const consumer = new GroupConsumer(
      {
        js: this.js!,
        topology: this.topology!,
        subjects: this.subjects,
        publisher: this.publisher!,
        options: this.options,
        logger: this.logger!,
        multipleFilters: this.multipleFilters,
      },
      options,
      onDelivery,
    )
    await consumer.start()
    this.consumers.add(consumer)
    return consumer
  }

  deadLetters(group: string): TransportDeadLetters {
    if (this.state !== 'connected') throw new TransportClosedError('read dead letters')
    assertGroupName(group, 'nats deadLetters(group)')
    return new NatsDeadLetters(this.jsm!, this.publisher!, this.subjects, group)
  }

  async sendToGroup(group: string, message: OutgoingMessage): Promise<void> {
    assertGroupName(group, 'nats sendToGroup(group)')
    await this.ready('sendToGroup')
    if (!(await groupExists(this.jsm!, this.subjects, group))) throw new GroupNotFoundError(group, this.name)
    // Through the group's retry lane, as a replay: attempt 1, empty history, due now.
    await this.publisher!.publish({
      subject: this.subjects.retry(group),
      payload: message.body,
      msgID: `send:${group}:${message.id}:${nuid.next()}`,
      headers: retryHeaders(1, [], Date.now(), false),
      what: () => `"${message.type}" (${message.id}) sent to group "${group}"`,
    })
  }

  async inspectGroups(): Promise<GroupStatus[]> {
    await this.ready('inspectGroups')
    return inspectGroups(this.jsm!, this.subjects, (group) => this.deadLetters(group).count())
  }

  async close(): Promise<void> {
    if (this.state === 'closed') return
    if (this.state === 'connecting') await this.connecting!.catch(() => {})
    const wasConnected = this.state === 'connected'
    this.state = 'closed'
    if (!wasConnected) return
    await Promise.allSettled([...this.consumers].map((consumer) => consumer.close()))
    this.consumers.clear()
    this.publisher!.close()
    // Acks already written are flushed; unsettled deliveries go back after ack_wait.
    await atMost(this.connection!.drain(), CLOSE_STEP_MS)
    await this.connection!.close().catch(() => {})
  }
}

/** `filter_subjects` (several filters per consumer) arrived in nats-server 2.10. */
export function supportsFilterSubjects(version: string | undefined): boolean {
  const match = /^v?(\d+)\.(\d+)/.exec(version ?? '')
  if (match === null) return false
  const major = Number(match[1])
  const minor = Number(match[2])
  return major > 2 || (major === 2 && minor >= 10)
}
