import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import { DeadLetterQueue } from '../dead-letter/dead-letter-queue.js'
import { assertHeaders, type Event, encodeEnvelope } from '../envelope/envelope.js'
import { EncodedMessage } from '../envelope/outgoing-message.js'
import {
  ConfigError,
  DuplicateListenerError,
  PayloadTooLargeError,
  PublishError,
  TransportClosedError,
} from '../errors/errors.js'
import { assertInterceptors, type ChainRun, composeChain } from '../interceptors/chain.js'
import type { Interceptor, PublishInterception } from '../interceptors/interceptor.js'
import {
  assertListenerDefaults,
  type Handler,
  type HandlerContext,
  type ListenOptions,
  type PublishOptions,
  resolveListenOptions,
} from '../listener/listen-options.js'
import { ListenerRunner, type ListenerRunnerDeps } from '../listener/listener-runner.js'
import { Lifecycle, type LifecycleListener, type LifecycleName } from '../observability/lifecycle.js'
import { childLogger, defaultLogger, type Logger } from '../observability/logger.js'
import { assertEventName, assertGroupName, assertPattern, assertServiceName } from '../patterns/names.js'
import type { EventFor, KnownPattern } from '../patterns/pattern-types.js'
import { compilePatterns } from '../patterns/patterns.js'
import { isStandardSchema, type StandardSchemaV1, validateWithSchema } from '../schema/standard-schema.js'
import { type Clock, systemClock } from '../time/clock.js'
import {
  configuredTransportUrl,
  isUnsetUrl,
  parseTransportUrl,
  redactUrl,
  transportFromUrl,
} from '../transport/resolve-url.js'
import type { GroupStatus, Transport } from '../transport/transport.js'
import { describeValue } from '../util/describe-value.js'
import { showOnly } from '../util/inspection.js'
import type { AnyEvents, BusJournal, BusOptions, EventCatalogue } from './bus-options.js'

/** Payload type a pattern receives: exact names get theirs, wildcard patterns the union. */
export type PayloadFor<Events extends EventCatalogue, Pattern extends string> = Pattern extends keyof Events
  ? Events[Pattern]
  : Events[keyof Events]

export type BusState = 'idle' | 'starting' | 'started' | 'closing' | 'closed'

/** `bus.health()`: what a readiness probe reads; computed from memory, no broker round trip. */
export interface BusHealth {
  /** Started, connected, and every listener subscribed: ready to take traffic. */
  readonly ok: boolean
  readonly state: BusState
  /** The transport's name once known (`amqp`, `redis-streams`, …). */
  readonly transport: string | undefined
  readonly connected: boolean
  /** When the connection last came up or went down (RFC 3339), and how long ago in ms. */
  readonly connectionChangedAt: string | undefined
  readonly forMs: number | undefined
  readonly listeners: readonly {
    readonly group: string
    readonly subscribed: boolean
    /** Handlers running in this process now. */
    readonly inFlight: number
    /** Last successful handling in this process (RFC 3339), if any. */
    readonly lastHandledAt: string | undefined
  }[]
}

export interface ListenerInfo {
  readonly name: string
  readonly group: string
  readonly patterns: readonly string[]
}

/**
 * What listen() returns. Awaiting it waits until the group is declared on the broker, so "listen,
 * then publish" never loses the first event on a running bus (before start() it resolves at once:
 * start() declares the group). `stop()` drains and removes this listener alone.
 */
export interface Listener extends ListenerInfo, PromiseLike<void> {
  /** Resolves once the group exists and this process consumes from it. */
  readonly ready: Promise<void>
  /** Stop fetching, wait for its in-flight handlers (up to drainTimeoutMs), then forget it. */
  stop(): Promise<void>
}

let busCounter = 0

/** 256 KiB: what SQS and SNS take, the smallest limit of the supported brokers. */
export const DEFAULT_MAX_EVENT_BYTES = 256 * 1024

export class Bus<Events extends EventCatalogue = AnyEvents> {
  readonly service: string
  private readonly logger: Logger
  private readonly lifecycle: Lifecycle
  private readonly runners = new Map<string, ListenerRunner>()
  private readonly listeners: ListenerInfo[] = []
  private readonly schemas: Map<string, StandardSchemaV1>
  private readonly drainTimeoutMs: number
  private readonly clock: Clock
  private readonly interceptPublish:
    | ((publish: PublishInterception, innermost: () => Promise<Event>) => ChainRun<Event>)
    | undefined
  private readonly interceptHandle: ListenerRunnerDeps['intercept']
  /** Clock time of the last connection change, and whether the transport is connected now (health). */
  private connectionChangedAt: number | undefined
  private transportConnected = false
  private readonly processName: string
  private readonly source: string
  private transport: Transport | undefined
  private readonly transportUrl: string | undefined
  private connecting: Promise<Transport> | undefined
  /** Set only once connect() has resolved: the publish fast path must never race a connect. */
  private connected: Transport | undefined
  private starting: Promise<void> | undefined
  private closing: Promise<void> | undefined
  private stateValue: BusState = 'idle'
  private readonly explicitMaxEventBytes: number | undefined
  private readonly journal: BusJournal | undefined

  constructor(private readonly options: BusOptions<Events>) {
    if (options === null || typeof options !== 'object') {
      throw new ConfigError(
        'createBus(options) needs an object such as { service: "shipping", url: "memory://" }.',
      )
    }
    assertServiceName(options.service)
    this.service = options.service
    this.source = `/${options.service}`
    this.logger = childLogger(options.logger ?? defaultLogger, { service: options.service })
    this.lifecycle = new Lifecycle((name, error) =>
      this.logger.error({ err: error, lifecycle: name }, 'a lifecycle listener threw'),
    )
    if (options.transport !== undefined) {
      if (!isTransport(options.transport)) {
        throw new ConfigError(
          'createBus({ transport }) must be a Transport, such as memoryTransport() or amqpTransport({ url }).',
        )
      }
      if (!isUnsetUrl(options.url))
        throw new ConfigError('createBus() takes transport or url, not both: drop one.')
      this.transport = options.transport
    } else {
      this.transportUrl = configuredTransportUrl(options.url) // '' counts as unset, as does TIDINGS_URL=
      parseTransportUrl(this.transportUrl)
    }
    this.schemas = new Map()
    for (const [name, schema] of Object.entries(options.schemas ?? {})) {
      assertEventName(name, 'schemas key')
      if (!isStandardSchema(schema)) {
        throw new ConfigError(
          `schemas["${name}"] is not a Standard Schema validator (zod, valibot, arktype, …).`,
        )
      }
      this.schemas.set(name, schema)
    }
    this.clock = options.clock ?? systemClock
    if (typeof this.clock?.now !== 'function' || typeof this.clock.setTimeout !== 'function') {
      throw new ConfigError(
        "createBus({ clock }) must have now(), setTimeout() and clearTimeout(), such as the testkit's ManualClock.",
      )
    }
    this.drainTimeoutMs = options.drainTimeoutMs ?? 30_000
    if (typeof this.drainTimeoutMs !== 'number' || !(this.drainTimeoutMs >= 0)) {
      throw new ConfigError(
        `createBus({ drainTimeoutMs }) must be a number of milliseconds >= 0, got ${describeValue(this.drainTimeoutMs)}.`,
      )
    }
    showOnly(this, 'Bus', () => ({
      service: this.service,
      state: this.stateValue,
      transport: this.transport?.name ?? (this.transportUrl ? redactUrl(this.transportUrl) : undefined),
      listeners: this.listeners.map((listener) => listener.name),
    }))
    this.explicitMaxEventBytes = options.maxEventBytes
    if (
      options.maxEventBytes !== undefined &&
      !(Number.isInteger(options.maxEventBytes) && options.maxEventBytes >= 1024)
    ) {
      throw new ConfigError(
        `createBus({ maxEventBytes }) must be a whole number of bytes, at least 1024; got ${describeValue(options.maxEventBytes)}.`,
      )
    }
    if (this.transport) this.assertMaxEventBytesFits(this.transport)
    busCounter += 1
    this.processName = options.processName ?? `${hostname()}-${process.pid}-${busCounter}`
    if (typeof this.processName !== 'string' || !/^[\w.:-]{1,100}$/.test(this.processName)) {
      throw new ConfigError(
        'createBus({ processName }) must be 1 to 100 letters, digits, ".", ":", "_" or "-".',
      )
    }
    assertListenerDefaults(options.defaults)
    const interceptors = assertInterceptors(options.interceptors)
    const publishSteps = interceptors.flatMap((each) =>
      each.publish ? [each.publish.bind(each) as NonNullable<Interceptor['publish']>] : [],
    )
    const handleSteps = interceptors.flatMap((each) =>
      each.handle ? [each.handle.bind(each) as NonNullable<Interceptor['handle']>] : [],
    )
    this.interceptPublish = publishSteps.length > 0 ? composeChain(publishSteps) : undefined
    this.interceptHandle = handleSteps.length > 0 ? composeChain(handleSteps) : undefined
    if (options.journal !== undefined) {
      const journal = options.journal as Partial<BusJournal> | null
      if (typeof journal?.attach !== 'function' || typeof journal.close !== 'function') {
        throw new ConfigError(
          'createBus({ journal }) must have attach(bus) and close(), such as createJournal({ store }) from @tidings/journal.',
        )
      }
      this.journal = options.journal
      this.journal.attach(this)
    }
  }

  get state(): BusState {
    return this.stateValue
  }

  /**
   * Register a listener; the consumer group is `<service>-<options.name>`. Before start() it is
   * declared by start(); on a running bus it subscribes at once (await the result before relying on it).
   */
  listen<Pattern extends string>(
    pattern: KnownPattern<Events, Pattern> | readonly KnownPattern<Events, Pattern>[],
    handler: (event: EventFor<Events, Pattern>, context: HandlerContext<Events>) => unknown,
    options: ListenOptions<EventFor<Events, Pattern>['data']>,
  ): Listener {
    if (this.stateValue === 'closing' || this.stateValue === 'closed')
      throw new TransportClosedError('listen')
    const patterns: readonly string[] =
      typeof pattern === 'string' ? [pattern] : [...(pattern as readonly string[])]
    if (patterns.length === 0)
      throw new ConfigError('listen() needs at least one pattern, such as "order.placed" or "order.*".')
    for (const each of patterns) assertPattern(each)
    if (typeof handler !== 'function') {
      throw new ConfigError(
        'listen(pattern, handler, options) needs a handler function (event, ctx) => Promise<void>.',
      )
    }
    const resolved = resolveListenOptions(options, this.options.defaults)
    if (this.listeners.some((listener) => listener.name === resolved.name)) {
      throw new DuplicateListenerError(this.service, resolved.name)
    }
    // An ephemeral group belongs to this bus alone: two `tail` processes each see every event.
    const group = resolved.durable
      ? `${this.service}-${resolved.name}`
      : `${this.service}-${resolved.name}-${randomBytes(4).toString('hex')}`
    const runner = new ListenerRunner({
      group,
      patterns,
      matches: compilePatterns(patterns),
      handler: handler as Handler,
      options: resolved,
      consumerName: this.processName,
      lifecycle: this.lifecycle,
      logger: childLogger(this.logger, { group }),
      schemaFor: (type) => this.schemas.get(type),
      publish: (type, data, publishOptions) =>
        this.publish(type as keyof Events & string, data as never, publishOptions),
      clock: this.clock,
      intercept: this.interceptHandle,
    })
    this.runners.set(group, runner)
    const info: ListenerInfo = { name: resolved.name, group, patterns }
    this.listeners.push(info)
    const ready = this.stateValue === 'idle' ? Promise.resolve() : this.subscribeLate(runner)
    ready.catch(() => {}) // the caller may not await it; a failure is logged by subscribeLate
    let stopping: Promise<void> | undefined
    return {
      ...info,
      ready,
      // biome-ignore lint/suspicious/noThenProperty: awaiting the listener waits until it is subscribed
      then: (onReady, onFailed) => ready.then(onReady, onFailed),
      stop: () => {
        stopping ??= this.stopListener(runner, info)
        return stopping
      },
    }
  }

  /** A listener added to a starting or running bus subscribes as soon as the bus is connected. */
  private async subscribeLate(runner: ListenerRunner): Promise<void> {
    try {
      await this.starting
      if (this.runners.get(runner.group) !== runner) return // stopped meanwhile
      await runner.subscribe(await this.connect())
    } catch (error) {
      this.logger.error(
        { err: error, group: runner.group },
        'a listener added to the running bus could not subscribe',
      )
      throw error
    }
  }

  private async stopListener(runner: ListenerRunner, info: ListenerInfo): Promise<void> {
    if (this.runners.get(runner.group) !== runner) return
    const drained = await runner.drain(this.drainTimeoutMs)
    if (!drained) {
      this.logger.warn(
        { group: runner.group, drainTimeoutMs: this.drainTimeoutMs },
        'listener.stop(): some handlers did not finish in time; their events will be redelivered',
      )
    }
    this.runners.delete(runner.group)
    const index = this.listeners.indexOf(info)
    if (index >= 0) this.listeners.splice(index, 1)
  }

  /**
   * Largest encoded event this bus publishes: `maxEventBytes` if given, else 256 KiB, never above
   * what the transport takes (read per publish: NATS knows its max_payload only once connected).
   */
  get maxEventBytes(): number {
    const transportLimit = this.transport?.maxMessageBytes ?? Number.POSITIVE_INFINITY
    return Math.min(this.explicitMaxEventBytes ?? DEFAULT_MAX_EVENT_BYTES, transportLimit)
  }

  private assertMaxEventBytesFits(transport: Transport): void {
    const wanted = this.explicitMaxEventBytes
    if (wanted !== undefined && wanted > transport.maxMessageBytes) {
      throw new ConfigError(
        `createBus({ maxEventBytes: ${wanted} }) is above what the ${transport.name} transport takes (${transport.maxMessageBytes} bytes): lower it, or raise the transport's maxMessageBytes if the broker allows it.`,
      )
    }
  }

  /** Connect, create every listener's group and start consuming. Idempotent. */
  start(): Promise<void> {
    if (this.stateValue === 'closing' || this.stateValue === 'closed')
      return Promise.reject(new TransportClosedError('start'))
    this.starting ??= (async () => {
      this.stateValue = 'starting'
      try {
        const transport = await this.connect()
        for (const runner of this.runners.values()) await runner.subscribe(transport)
        this.stateValue = 'started'
      } catch (error) {
        // Let the caller try again (a broker that was not up yet); subscribed runners stay subscribed.
        if (this.stateValue === 'starting') this.stateValue = 'idle'
        this.starting = undefined
        throw error
      }
    })()
    return this.starting
  }

  /**
   * Publish an event; resolves with the event once the broker holds it durably (G11). Needs no
   * start(): a publisher-only service just publishes.
   */
  publish<Name extends keyof Events & string>(
    type: Name,
    data: Events[Name],
    options: PublishOptions = NO_OPTIONS,
  ): Promise<Event<Events[Name]>> {
    // Not async: the common path returns send()'s promise without another turn of the queue.
    try {
      if (this.stateValue === 'closed') throw new TransportClosedError('publish')
      assertEventName(type)
      if (options !== NO_OPTIONS) assertPublishOptions(options)
    } catch (error) {
      return Promise.reject(error)
    }
    const schema = this.schemas.get(type)
    if (schema)
      return validateWithSchema(schema, type, data).then((payload) => this.dispatch(type, payload, options))
    return this.dispatch(type, data, options)
  }

  private dispatch<Name extends keyof Events & string>(
    type: Name,
    payload: unknown,
    options: PublishOptions,
  ): Promise<Event<Events[Name]>> {
    const sent =
      this.interceptPublish === undefined
        ? this.send(type, payload, options)
        : this.publishIntercepted(this.interceptPublish, type, payload, options)
    return sent as Promise<Event<Events[Name]>>
  }

  /** Runs the publish interceptors; what they set in headers and traceparent is what gets encoded. */
  private async publishIntercepted(
    intercept: NonNullable<Bus['interceptPublish']>,
    type: string,
    payload: unknown,
    options: PublishOptions,
  ): Promise<Event> {
    const interception: PublishInterception = {
      type,
      data: payload,
      key: options.key,
      service: this.service,
      transport: this.connected?.name ?? this.transport?.name ?? 'pending',
      headers: { ...options.headers },
      traceparent: options.traceparent,
    }
    const run = intercept(interception, () => {
      assertHeaders(interception.headers)
      return this.send(type, payload, {
        ...options,
        headers: interception.headers,
        traceparent: interception.traceparent,
      })
    })
    try {
      return await run.result
    } catch (error) {
      const sent = run.inner && (await run.inner.catch(() => undefined))
      if (sent === undefined) throw error
      this.logger.error(
        { err: error, eventId: sent.id, type },
        'a publish interceptor threw after the event was sent; publish() resolves with it',
      )
      return sent
    }
  }

  /** Encode, check the size, hand to the transport: resolves once the broker holds the event (G11). */
  private async send(type: string, payload: unknown, options: PublishOptions): Promise<Event> {
    const { event, text } = encodeEnvelope({
      type,
      data: payload,
      source: this.source,
      id: options.id,
      key: options.key,
      correlationId: options.correlationId,
      causationId: options.causationId,
      traceparent: options.traceparent,
      headers: options.headers,
    })
    let transport = this.connected
    try {
      transport ??= await this.connect()
      const message = new EncodedMessage(event.id, type, options.key, text)
      this.assertFits(message, transport)
      await transport.publish(message)
    } catch (error) {
      // What the user must fix or already knows stays as it is; everything else that kept the event
      // from the broker (a connection that never came up included) is a PublishError (G11).
      if (
        error instanceof PublishError ||
        error instanceof ConfigError ||
        error instanceof TransportClosedError
      )
        throw error
      throw new PublishError(
        `The ${transport?.name ?? 'configured'} transport did not accept "${type}" (${(error as Error)?.message ?? String(error)}); it was not published, so retry it or fail the operation.`,
        { cause: error },
      )
    }
    if (this.lifecycle.has('published')) this.lifecycle.emit('published', { event })
    return event
  }

  private assertFits(message: EncodedMessage, transport: Transport): void {
    const busLimit = this.explicitMaxEventBytes ?? DEFAULT_MAX_EVENT_BYTES
    const transportLimit = transport.maxMessageBytes
    if (message.byteLength > busLimit || message.byteLength > transportLimit) {
      const busLimitApplies = busLimit <= transportLimit
      throw new PayloadTooLargeError(
        message.type,
        message.byteLength,
        busLimitApplies ? busLimit : transportLimit,
        busLimitApplies ? "the bus's maxEventBytes" : `the ${transport.name} transport's maximum`,
      )
    }
  }

  /**
   * Send one event that was published before (same id, time, source and data) to one consumer
   * group only, as a new attempt chain: attempt 1, empty history, whatever became of it before. No
   * other group sees it. Rejects with `GroupNotFoundError` when the namespace has no such group.
   */
  async sendToGroup(group: string, event: Event): Promise<void> {
    assertGroupName(group)
    if (event === null || typeof event !== 'object' || typeof event.id !== 'string') {
      throw new ConfigError(
        `sendToGroup(group, event) needs the event as received or published (an object with id, type, source, time and data), got ${describeValue(event)}.`,
      )
    }
    const { text } = encodeEnvelope({
      type: event.type,
      data: event.data,
      source: event.source,
      id: event.id,
      time: event.time,
      key: event.key,
      correlationId: event.correlationId,
      causationId: event.causationId,
      traceparent: event.traceparent,
      headers: event.headers,
    })
    if (this.stateValue === 'closed') throw new TransportClosedError('sendToGroup')
    const transport = this.connected ?? (await this.connect())
    const message = new EncodedMessage(event.id, event.type, event.key, text)
    this.assertFits(message, transport)
    await transport.sendToGroup(group, message)
  }

  /**
   * Every consumer group of the transport's namespace (any service's), with the broker's own
   * counters: backlog, in flight, waiting retries, dead letters, consumers. A counter the broker
   * cannot tell is `undefined`.
   */
  async inspectGroups(): Promise<GroupStatus[]> {
    if (this.stateValue === 'closed') throw new TransportClosedError('inspectGroups')
    const transport = this.connected ?? (await this.connect())
    return transport.inspectGroups()
  }

  /** Dead letters of a consumer group (`<service>-<listener>`, any service's). */
  deadLetters(group: string): DeadLetterQueue {
    assertGroupName(group)
    return new DeadLetterQueue(group, () => this.connect())
  }

  /** Subscribe to lifecycle events (published, handled, retry-scheduled, dead-lettered, …). Returns an unsubscribe function. */
  on<Name extends LifecycleName>(name: Name, listener: LifecycleListener<Name>): () => void {
    if (typeof listener !== 'function')
      throw new ConfigError(`bus.on("${String(name)}", listener) needs a function.`)
    return this.lifecycle.on(name, listener)
  }

  /**
   * What a readiness probe needs, without touching the broker: whether the transport is connected
   * (and since when), each listener's handlers in flight and last success, and one `ok`: the bus is
   * started, connected, and every listener consumes.
   */
  health(): BusHealth {
    const now = this.clock.now()
    const listeners = [...this.runners.values()].map((runner) => ({
      group: runner.group,
      subscribed: runner.subscribed,
      inFlight: runner.handlersRunning,
      lastHandledAt:
        runner.lastHandledAt === undefined ? undefined : new Date(runner.lastHandledAt).toISOString(),
    }))
    return {
      ok:
        this.stateValue === 'started' &&
        this.transportConnected &&
        listeners.every((listener) => listener.subscribed),
      state: this.stateValue,
      transport: this.connected?.name ?? this.transport?.name,
      connected: this.transportConnected,
      connectionChangedAt:
        this.connectionChangedAt === undefined ? undefined : new Date(this.connectionChangedAt).toISOString(),
      forMs: this.connectionChangedAt === undefined ? undefined : now - this.connectionChangedAt,
      listeners,
    }
  }

  private connectionChanged(connected: boolean): void {
    if (this.transportConnected === connected && this.connectionChangedAt !== undefined) return
    this.transportConnected = connected
    this.connectionChangedAt = this.clock.now()
  }

  /** The listeners registered so far. */
  get listenerInfo(): readonly ListenerInfo[] {
    return this.listeners
  }

  /**
   * Stop fetching, wait for in-flight handlers (up to drainTimeoutMs), settle them, disconnect.
   * Handlers still running at the deadline are left unsettled, so the broker redelivers them.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const wasStarting = this.starting
      this.stateValue = 'closing'
      await wasStarting?.catch(() => {})
      const drained = await Promise.all(
        [...this.runners.values()].map((runner) => runner.drain(this.drainTimeoutMs)),
      )
      if (drained.includes(false)) {
        this.logger.warn(
          { drainTimeoutMs: this.drainTimeoutMs },
          'close(): some handlers did not finish in time; their events stay unacknowledged and will be redelivered',
        )
      }
      const transport = this.transport
      if (transport && this.connecting) await transport.close()
      this.connectionChanged(false)
      if (this.journal) {
        await this.journal.close().catch((error: unknown) => {
          this.logger.error({ err: error }, 'close(): the journal failed to flush; the bus is closed anyway')
        })
      }
      this.stateValue = 'closed'
    })()
    return this.closing
  }

  private connect(): Promise<Transport> {
    this.connecting ??= (async () => {
      const transport = this.transport ?? (await transportFromUrl(this.transportUrl!))
      this.assertMaxEventBytesFits(transport)
      this.transport = transport
      await transport.connect({
        logger: childLogger(this.logger, { transport: transport.name }),
        notify: (notice) => {
          if (notice.kind !== 'error') this.connectionChanged(notice.kind === 'reconnected')
          if (notice.kind === 'reconnected')
            this.lifecycle.emit('reconnected', { transport: transport.name, attempt: notice.attempt })
          else if (notice.kind === 'disconnected')
            this.lifecycle.emit('disconnected', { transport: transport.name, error: notice.error })
          else this.lifecycle.emit('transport-error', { transport: transport.name, error: notice.error })
        },
      })
      this.connected = transport
      this.connectionChanged(true)
      return transport
    })()
    this.connecting.catch(() => {
      this.connecting = undefined // a failed connect may be tried again
    })
    return this.connecting
  }
}

/** Create a bus. `createBus<Events>()` type-checks publish and listen against an event catalogue. */
export function createBus<Events extends EventCatalogue = AnyEvents>(
  options: BusOptions<Events>,
): Bus<Events> {
  return new Bus<Events>(options)
}

const NO_OPTIONS: PublishOptions = Object.freeze({})
const PUBLISH_OPTIONS = new Set(['key', 'headers', 'id', 'correlationId', 'causationId', 'traceparent'])

function assertPublishOptions(options: PublishOptions): void {
  if (options === null || typeof options !== 'object') {
    throw new ConfigError('publish(type, data, options) options must be an object such as { key: orderId }.')
  }
  for (const key of Object.keys(options)) {
    if (!PUBLISH_OPTIONS.has(key)) {
      throw new ConfigError(
        `publish() has no option "${key}": the options are ${[...PUBLISH_OPTIONS].join(', ')}.`,
      )
    }
    const value = (options as Record<string, unknown>)[key]
    if (
      key !== 'headers' &&
      value !== undefined &&
      (typeof value !== 'string' || value.length === 0 || value.length > 1024)
    ) {
      throw new ConfigError(
        `publish() option ${key} must be a non-empty string of at most 1024 characters, got ${describeValue(value)}.`,
      )
    }
  }
  assertHeaders(options.headers)
}

function isTransport(value: unknown): value is Transport {
  const candidate = value as Partial<Transport> | null
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof candidate.connect === 'function' &&
    typeof candidate.publish === 'function' &&
    typeof candidate.subscribe === 'function' &&
    typeof candidate.deadLetters === 'function' &&
    typeof candidate.close === 'function'
  )
}
