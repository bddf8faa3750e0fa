import { type Logger, PublishError, TransportClosedError, type TransportNotice } from '@tidings/core'
import { backOffDelay, Sleeper } from '@tidings/core/transport'
import amqp, { type Channel, type ChannelModel } from 'amqplib'
import { AmqpConnectionError, asError, errorMessage } from './errors.js'
import type { ResolvedOptions } from './options.js'
import { declareExchanges, type Names } from './topology.js'
import { connectionUrl, redactUrl } from './url.js'

/** Called after every (re)connection, once the exchanges exist: restore channels and consumers. */
export type ReadyListener = (model: ChannelModel) => Promise<void>

interface Waiter {
  readonly resolve: (model: ChannelModel) => void
  readonly reject: (error: Error) => void
  readonly timer: NodeJS.Timeout
}

/**
 * Owns the one AMQP connection. amqplib does not reconnect: when the connection closes without
 * close() having been called, this reconnects with back-off, re-declares the exchanges and lets
 * every ReadyListener (publisher, consumers) restore itself, then tells core `reconnected`.
 */
export class ConnectionManager {
  private model: ChannelModel | undefined
  private closed = false
  private reconnecting = false
  private readonly listeners = new Set<ReadyListener>()
  private readonly waiters = new Set<Waiter>()
  private readonly sleeper = new Sleeper()
  private lastEarlyAttempt = 0
  private readonly safeUrl: string

  constructor(
    private readonly options: ResolvedOptions,
    private readonly names: Names,
    private readonly logger: () => Logger,
    private readonly notify: (notice: TransportNotice) => void,
  ) {
    this.safeUrl = redactUrl(options.url)
  }

  /** The virtual host the URL names ("/" when its path is empty), for messages. */
  private get virtualHost(): string {
    try {
      const path = new URL(this.options.url).pathname
      return path === '' || path === '/' ? '/' : decodeURIComponent(path.slice(1))
    } catch {
      return '/'
    }
  }

  get current(): ChannelModel | undefined {
    return this.model
  }

  get isClosed(): boolean {
    return this.closed
  }

  onReady(listener: ReadyListener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** The first connection: retried with back-off for connectTimeoutMs, except a refused login. */
  async connect(): Promise<void> {
    const deadline = Date.now() + this.options.connectTimeoutMs
    let attempt = 0
    for (;;) {
      attempt += 1
      try {
        await this.open()
        return
      } catch (error) {
        if (this.closed) throw new TransportClosedError('connect')
        const message = errorMessage(error)
        const refused = /ACCESS[-_]REFUSED|403/.test(message)
        // The login worked but RabbitMQ closed the connection while opening the virtual host
        // (530 NOT_ALLOWED: no such vhost, or no permission on it); amqplib reports only the frame.
        const vhostRefused = /NOT_ALLOWED|530|Expected ConnectionOpenOk; got <ConnectionClose/.test(message)
        if (refused || vhostRefused) {
          throw new AmqpConnectionError(
            refused
              ? `RabbitMQ at ${this.safeUrl} refused the login (${message}): check the user name and password in the URL.`
              : `RabbitMQ at ${this.safeUrl} accepted the login but refused to open the virtual host "${this.virtualHost}" (${message}): it does not exist or the user has no permission on it. Create it (rabbitmqctl add_vhost ${this.virtualHost}) and grant the user access (rabbitmqctl set_permissions -p ${this.virtualHost} <user> ".*" ".*" ".*"), or fix the path of the URL (amqp://host:5672/<vhost>, "/" by default).`,
            { cause: error, authentication: true },
          )
        }
        const remaining = deadline - Date.now()
        if (remaining <= 0) {
          throw new AmqpConnectionError(
            `Could not connect to RabbitMQ at ${this.safeUrl} within connectTimeoutMs=${this.options.connectTimeoutMs} (${message}): check that the broker runs and the URL's host and port.`,
            { cause: error },
          )
        }
        // The last wait is cut to the deadline, so the whole of connectTimeoutMs is tried.
        const delay = Math.min(backOffDelay(attempt, this.options.reconnect), remaining)
        this.logger().warn(
          { attempt, error: errorMessage(error), url: this.safeUrl },
          'amqp: connection failed, retrying',
        )
        await this.sleeper.sleep(delay)
      }
    }
  }

  /** The live connection, waiting through an outage until `deadline` (epoch ms). */
  waitForConnection(deadline: number, operation = 'publish'): Promise<ChannelModel> {
    if (this.closed) return Promise.reject(new TransportClosedError(operation))
    if (this.model) return Promise.resolve(this.model)
    this.tryNowForAWaitingCaller()
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        timer: setTimeout(
          () => {
            this.waiters.delete(waiter)
            reject(
              new PublishError(
                `RabbitMQ at ${this.safeUrl} stayed unreachable for publishTimeoutMs=${this.options.publishTimeoutMs}: the ${operation} was not done. Check the broker; the transport keeps reconnecting.`,
              ),
            )
          },
          Math.max(0, deadline - Date.now()),
        ),
      }
      this.waiters.add(waiter)
    })
  }

  /**
   * A caller is waiting for the connection: reconnect now rather than at the end of a back-off that
   * may outlast its publishTimeoutMs, but no more often than the first back-off step, so a burst of
   * waiting publishes does not turn into a burst of connection attempts.
   */
  private tryNowForAWaitingCaller(): void {
    const now = Date.now()
    if (now - this.lastEarlyAttempt < this.options.reconnect.initialDelayMs) return
    this.lastEarlyAttempt = now
    this.sleeper.wakeAll()
  }

  /** Runs `work` on a short-lived channel, so a failing declaration cannot close anyone else's channel. */
  async withChannel<T>(
    deadline: number,
    operation: string,
    work: (channel: Channel) => Promise<T>,
  ): Promise<T> {
    const model = await this.waitForConnection(deadline, operation)
    const channel = await model.createChannel()
    channel.on('error', (error: unknown) =>
      this.logger().debug({ error: errorMessage(error), operation }, 'amqp: channel error'),
    )
    try {
      return await work(channel)
    } finally {
      await channel.close().catch(() => {})
    }
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.sleeper.wakeAll()
    for (const waiter of this.waiters) {
      clearTimeout(waiter.timer)
      waiter.reject(new TransportClosedError('publish'))
    }
    this.waiters.clear()
    const model = this.model
    this.model = undefined
    if (model) await model.close().catch(() => {})
  }

  private async open(): Promise<ChannelModel> {
    const url = connectionUrl(this.options.url, this.options.heartbeatSeconds)
    // noDelay: confirms and acks are small frames; Nagle's algorithm would hold them for up to 40 ms.
    const model = await amqp.connect(url, {
      timeout: Math.max(1000, Math.min(5000, this.options.connectTimeoutMs)),
      noDelay: true,
      keepAlive: true,
    })
    model.on('error', (error: unknown) =>
      this.logger().warn({ error: errorMessage(error), url: this.safeUrl }, 'amqp: connection error'),
    )
    model.on('blocked', (reason: unknown) =>
      this.logger().warn(
        { reason, url: this.safeUrl },
        'amqp: the broker blocked publishing (resource alarm)',
      ),
    )
    model.on('close', (error?: unknown) => this.handleClose(model, error))
    try {
      const channel = await model.createChannel()
      channel.on('error', () => {})
      await declareExchanges(channel, this.names)
      await channel.close()
    } catch (error) {
      await model.close().catch(() => {})
      throw error
    }
    if (this.closed) {
      await model.close().catch(() => {})
      throw new TransportClosedError('connect')
    }
    this.model = model
    for (const waiter of this.waiters) {
      clearTimeout(waiter.timer)
      waiter.resolve(model)
    }
    this.waiters.clear()
    await Promise.all(
      [...this.listeners].map((listener) =>
        listener(model).catch((error: unknown) =>
          this.logger().error({ error: errorMessage(error) }, 'amqp: restoring after (re)connection failed'),
        ),
      ),
    )
    return model
  }

  private handleClose(model: ChannelModel, error: unknown): void {
    if (this.model !== model) return
    this.model = undefined
    if (this.closed) return
    this.logger().warn(
      { error: error ? errorMessage(error) : undefined, url: this.safeUrl },
      'amqp: connection lost',
    )
    this.notify({ kind: 'disconnected', ...(error ? { error: asError(error) } : {}) })
    void this.reconnect()
  }

  private async reconnect(): Promise<void> {
    if (this.reconnecting) return
    this.reconnecting = true
    try {
      for (let attempt = 1; !this.closed; attempt += 1) {
        await this.sleeper.sleep(backOffDelay(attempt, this.options.reconnect))
        if (this.closed) return
        try {
          await this.open()
          if (!this.model) continue // lost again while restoring: keep trying
          this.logger().info({ attempt, url: this.safeUrl }, 'amqp: reconnected')
          this.notify({ kind: 'reconnected', attempt })
          return
        } catch (error) {
          if (this.closed) return
          this.logger().warn(
            { attempt, error: errorMessage(error), url: this.safeUrl },
            'amqp: reconnection failed',
          )
        }
      }
    } finally {
      this.reconnecting = false
    }
  }
}
