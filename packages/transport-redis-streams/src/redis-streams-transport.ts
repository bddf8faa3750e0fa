import {
  ConfigError,
  type DeliveryHandler,
  GroupNotFoundError,
  type GroupStatus,
  type Logger,
  type OutgoingMessage,
  redactUrl,
  type SubscribeOptions,
  type Subscription,
  type Transport,
  type TransportCapabilities,
  TransportClosedError,
  type TransportContext,
  type TransportDeadLetters,
} from '@tidings/core'
import {
  assertGroupName,
  assertSubscribeOptions,
  atMost,
  ConnectionError,
  showOnly,
} from '@tidings/core/transport'
import { Cluster, Redis, type RedisOptions } from 'ioredis'
import { StreamConsumer } from './consumer.js'
import { RedisDeadLetters } from './dead-letters.js'
import { encodeRetryMeta } from './entries.js'
import { CLOSE_STEP_MS } from './errors.js'
import { inspectGroupNames, inspectGroups } from './group-inspection.js'
import { routeIoredisWarnings } from './ioredis-warnings.js'
import { type NamespaceKeys, namespaceKeys } from './keys.js'
import { type RedisStreamsTransportOptions, type ResolvedOptions, resolveOptions } from './options.js'
import { Publisher } from './publisher.js'
import { Retention } from './retention.js'
import { Scripts } from './scripts.js'

/**
 * A Transport on Redis Streams (ioredis). See the package README for the key layout and guarantees.
 *
 * ```ts
 * const bus = createBus({ service: 'shipping', transport: redisStreamsTransport({ url: 'redis://localhost:6379' }) })
 * ```
 */
export function redisStreamsTransport(options: RedisStreamsTransportOptions): Transport {
  return new RedisStreamsTransport(options)
}

/** Options the transport always sets on connections it creates. */
const CONNECTION_DEFAULTS: RedisOptions = {
  // Commands wait through an outage (publish() bounds the wait itself with publishTimeoutMs).
  maxRetriesPerRequest: null,
  // The transport batches what is hot itself (publishes and acks per tick, one write each);
  // ioredis' auto-pipelining would only hold a lone publish back until setImmediate.
  enableAutoPipelining: false,
  retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
}

export class RedisStreamsTransport implements Transport {
  readonly name = 'redis-streams'
  readonly capabilities: TransportCapabilities
  readonly maxMessageBytes: number
  private readonly options: ResolvedOptions
  private readonly keys: NamespaceKeys
  private client: Redis | Cluster | undefined
  private ownsClient = false
  private scripts: Scripts | undefined
  private publisher: Publisher | undefined
  private retention: Retention | undefined
  private logger: Logger | undefined
  private readonly consumers = new Set<StreamConsumer>()
  private state: 'new' | 'connecting' | 'connected' | 'closed' = 'new'
  private connecting: Promise<void> | undefined
  private reconnectAttempts = 0
  private disconnected = false
  /** Gives ioredis' own console warnings back to the console (see ioredis-warnings.ts). */
  private unrouteWarnings: (() => void) | undefined
  /** Removes the listeners watch() put on the client (a client the caller owns outlives us). */
  private unwatch: (() => void) | undefined

  constructor(private readonly input: RedisStreamsTransportOptions) {
    this.options = resolveOptions(input)
    showOnly(this, 'RedisStreamsTransport', () => ({
      name: this.name,
      url: input.url === undefined ? '(a client of the caller)' : redactUrl(input.url),
      namespace: this.options.namespace,
      state: this.state,
    }))
    this.maxMessageBytes = this.options.maxMessageBytes
    this.keys = namespaceKeys(this.options.namespace)
    const readAhead = this.options.readAhead
    this.capabilities = Object.freeze({
      maxDelayMs: Number.POSITIVE_INFINITY,
      historyBytes: Number.POSITIVE_INFINITY,
      retryCarriesHistory: true,
      deadLetterBrowsing: 'exact',
      // One stream read in order by a concurrency-1 listener. Several processes of one group compete
      // for entries (Redis has no partitions), so the order holds per process, as the suite tests.
      orderingByKey: true,
      crashRecovery: true,
      durableGroups: true,
      ephemeralGroups: true,
      // Consumers are unknown: Redis keeps a consumer's name after its process died.
      groupCounters: { inFlight: true, waitingRetries: true, consumers: false },
      readAhead: (concurrency: number) => readAhead ?? concurrency,
    })
  }

  connect(context: TransportContext): Promise<void> {
    if (this.state !== 'new')
      return Promise.reject(new ConfigError('connect() was already called on this Redis Streams transport.'))
    this.state = 'connecting'
    this.connecting = this.open(context).catch((error: unknown) => {
      // Let the caller try connect() again (a Redis that was not up yet).
      if (this.ownsClient) this.client?.disconnect()
      else this.unwatch?.() // the caller's client outlives this attempt
      this.unwatch = undefined
      this.client = undefined
      if (this.state === 'connecting') this.state = 'new'
      this.unrouteWarnings?.()
      this.unrouteWarnings = undefined
      throw error
    })
    return this.connecting
  }

  private async open(context: TransportContext): Promise<void> {
    this.logger = context.logger
    this.unrouteWarnings ??= routeIoredisWarnings(context.logger)
    const client =
      this.input.client ?? new Redis(this.input.url!, { ...CONNECTION_DEFAULTS, ...this.input.redisOptions })
    this.ownsClient = this.input.client === undefined
    this.client = client
    this.unwatch = this.watch(client, context)
    if (this.ownsClient) await this.waitUntilReady(client)
    this.scripts = new Scripts(client)
    this.publisher = new Publisher(client, this.keys, this.options)
    this.retention = new Retention(
      this.scripts,
      this.keys,
      {
        intervalMs: this.options.trimIntervalMs,
        orphanRetentionMs: this.options.orphanRetentionMs,
        ephemeralExpiryMs: this.options.ephemeralExpiryMs,
      },
      context.logger,
    )
    this.retention.start()
    if (this.state === 'connecting') this.state = 'connected'
  }

  /** Resolves once connected; rejects with TransportClosedError when closed or never connected. */
  private async ready(operation: string): Promise<void> {
    if (this.state === 'connecting') await this.connecting!.catch(() => {})
    if (this.state !== 'connected') throw new TransportClosedError(operation)
  }

  publish(message: OutgoingMessage): Promise<void> {
    if (this.state === 'connected') return this.publisher!.publish(message)
    // A publish racing the first connect() waits for it.
    return this.ready('publish').then(() => this.publisher!.publish(message))
  }

  async subscribe(options: SubscribeOptions, onDelivery: DeliveryHandler): Promise<Subscription> {
    assertSubscribeOptions(options, this.name)
    await this.ready('subscribe')
    const blocking = this.duplicate()
    blocking.on('error', (error: Error) =>
      this.logger!.debug({ group: options.group, error: error.message }, 'blocking connection error'),
    )
    const consumer = new StreamConsumer(
      {
        client: this.client!,
        blocking,
        scripts: this.scripts!,
        keys: this.keys,
        options: this.options,
        logger: this.logger!,
      },
      options,
      onDelivery,
    )
    try {
      await consumer.start()
    } catch (error) {
      blocking.disconnect()
      throw error
    }
    this.consumers.add(consumer)
    this.retention!.track(consumer.retryStream)
    return consumer
  }

  deadLetters(group: string): TransportDeadLetters {
    if (this.state !== 'connected') throw new TransportClosedError('read dead letters')
    assertGroupName(group, 'redis-streams deadLetters(group)')
    return new RedisDeadLetters(this.client!, this.scripts!, this.keys.group(group))
  }

  async sendToGroup(group: string, message: OutgoingMessage): Promise<void> {
    if (this.state === 'closed') throw new TransportClosedError('sendToGroup')
    assertGroupName(group, 'redis-streams sendToGroup(group)')
    await this.ready('sendToGroup')
    const client = this.client!
    const groups = await inspectGroupNames(client, this.keys)
    if (!groups.includes(group)) throw new GroupNotFoundError(group, this.name)
    // The group's own retry stream, as a replay: attempt 1, no history.
    const meta = encodeRetryMeta({ type: message.type, id: message.id, attempt: 1, history: [] })
    await client.xadd(this.keys.group(group).retry, '*', 'meta', meta, 'body', message.text)
  }

  async inspectGroups(): Promise<GroupStatus[]> {
    if (this.state === 'closed') throw new TransportClosedError('inspectGroups')
    await this.ready('inspectGroups')
    return inspectGroups(this.client!, this.keys)
  }

  async close(): Promise<void> {
    if (this.state === 'closed') return
    if (this.state === 'connecting') await this.connecting!.catch(() => {})
    const wasConnected = this.state === 'connected'
    this.state = 'closed'
    this.unrouteWarnings?.()
    this.unrouteWarnings = undefined
    if (!wasConnected) return
    this.retention!.stop()
    await Promise.allSettled([...this.consumers].map((consumer) => consumer.close()))
    this.consumers.clear()
    // A client the caller owns stays in use: leave no listener (nor this transport) attached to it.
    if (!this.ownsClient) this.unwatch?.()
    this.unwatch = undefined
    if (this.ownsClient) {
      await atMost(this.client!.quit(), CLOSE_STEP_MS)
      this.client!.disconnect()
    }
  }

  /** Trims now (tests, tools); normally a timer does it every trimIntervalMs. */
  trimNow(): Promise<number> {
    if (this.state !== 'connected') return Promise.reject(new TransportClosedError('trim'))
    return this.retention!.trimOnce()
  }

  private duplicate(): Redis | Cluster {
    const client = this.client!
    if (client instanceof Cluster) return client.duplicate()
    return client.duplicate({ ...CONNECTION_DEFAULTS, lazyConnect: false })
  }

  private watch(client: Redis | Cluster, context: TransportContext): () => void {
    let lastErrorLog = 0
    const onError = (error: Error): void => {
      // ioredis reports every failed reconnect; one line every 10 s is enough.
      if (Date.now() - lastErrorLog > 10_000) {
        lastErrorLog = Date.now()
        context.logger.warn({ error: error.message }, 'Redis connection error; ioredis reconnects')
      }
    }
    const onClose = (): void => {
      if (this.state === 'closed' || this.disconnected) return
      this.disconnected = true
      context.notify({ kind: 'disconnected' })
    }
    const onReady = (): void => {
      if (!this.disconnected) return
      this.disconnected = false
      this.reconnectAttempts += 1
      context.notify({ kind: 'reconnected', attempt: this.reconnectAttempts })
    }
    client.on('error', onError)
    client.on('close', onClose)
    client.on('ready', onReady)
    return () => {
      client.off('error', onError)
      client.off('close', onClose)
      client.off('ready', onReady)
    }
  }

  private async waitUntilReady(client: Redis | Cluster): Promise<void> {
    if (client.status === 'ready') return
    const timeoutMs = this.options.publishTimeoutMs
    const where = redactUrl(this.input.url ?? '')
    await new Promise<void>((resolve, reject) => {
      const fail = (error: ConnectionError): void => {
        cleanup()
        client.disconnect()
        reject(error)
      }
      const timer = setTimeout(
        () =>
          fail(
            new ConnectionError(
              `Could not connect to Redis at ${where} within ${timeoutMs} ms: check that the server runs and the URL's host and port are right (the wait is publishTimeoutMs).`,
            ),
          ),
        timeoutMs,
      )
      const onReady = (): void => {
        cleanup()
        resolve()
      }
      const onError = (error: Error): void => {
        // Waiting will not fix refused credentials: say so at once, without the password.
        if (/WRONGPASS|NOAUTH|invalid password|invalid username-password|AUTH failed/i.test(error.message)) {
          fail(
            new ConnectionError(
              `Redis at ${where} refused the credentials (${error.message.split(' ')[0]}): check the user name and password in the URL (redis://user:password@host:port).`,
              { cause: error, authentication: true },
            ),
          )
        }
      }
      const onEnd = (): void => fail(new ConnectionError(`The connection to Redis at ${where} ended.`))
      const cleanup = (): void => {
        clearTimeout(timer)
        client.off('ready', onReady)
        client.off('error', onError)
        client.off('end', onEnd)
      }
      client.on('ready', onReady)
      client.on('error', onError)
      client.on('end', onEnd)
    })
  }
}
