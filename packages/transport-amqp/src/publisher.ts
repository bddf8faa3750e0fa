import { type Logger, PublishError, TransportClosedError } from '@tidings/core'
import type { ConfirmChannel, Message, Options } from 'amqplib'
import type { ConnectionManager } from './connection-manager.js'
import { errorMessage } from './errors.js'

/** Header carrying a per-publish token, to match a broker `basic.return` with its publish. */
const RETURN_TOKEN_HEADER = 'x-tidings-publish-token'
const SWEEP_INTERVAL_MS = 100
const RETRY_PAUSE_MS = 25

export interface PublishRequest {
  readonly exchange: string
  readonly routingKey: string
  readonly body: Buffer
  readonly options: Options.Publish
  /**
   * Ask the broker to return the message if no queue takes it; publish() then resolves `false`.
   * Used for retries, dead letters and replays, whose target queue must exist.
   */
  readonly mandatory?: boolean
}

interface InFlight {
  readonly deadline: number
  readonly reject: (error: Error) => void
  settled: boolean
}

class ConfirmTimeout extends Error {}
class Nacked extends Error {}

/**
 * Publishes on one confirm channel and resolves on the broker's ack. Publishes are pipelined
 * (no waiting for one confirm before the next send). Through an outage a publish waits for the
 * next channel and is sent again, until publishTimeoutMs from its start; then it rejects with
 * PublishError. A message whose channel died before its confirm may be stored twice (at-least-once).
 */
export class Publisher {
  private channel: ConfirmChannel | undefined
  private opening: Promise<ConfirmChannel> | undefined
  private drained: Promise<void> | undefined
  private readonly inFlight = new Set<InFlight>()
  private readonly returned = new Set<string>()
  private sweeper: NodeJS.Timeout | undefined
  private tokenSequence = 0

  constructor(
    private readonly connection: ConnectionManager,
    private readonly publishTimeoutMs: number,
    private readonly logger: () => Logger,
  ) {}

  /** Open the confirm channel ahead of the first publish. */
  async warmUp(): Promise<void> {
    await this.getChannel(Date.now() + this.publishTimeoutMs)
  }

  /** Resolves `true` once confirmed (`false`: a mandatory message no queue took); rejects with PublishError. */
  async publish(request: PublishRequest): Promise<boolean> {
    const deadline = Date.now() + this.publishTimeoutMs
    let lastError: unknown
    for (;;) {
      if (this.connection.isClosed) throw new TransportClosedError('publish')
      let channel: ConfirmChannel
      try {
        channel = this.channel ?? (await this.getChannel(deadline))
      } catch (error) {
        if (error instanceof TransportClosedError) throw error
        lastError = error
        if (Date.now() >= deadline) throw this.timeoutError(lastError)
        await pause(RETRY_PAUSE_MS)
        continue
      }
      try {
        return await this.send(channel, request, deadline)
      } catch (error) {
        if (error instanceof Nacked) {
          throw new PublishError(
            `RabbitMQ refused to store the message (negative acknowledgement) for routing key "${request.routingKey}": check the broker's logs and disk/memory alarms.`,
            { cause: error },
          )
        }
        lastError = error
        if (error instanceof ConfirmTimeout || Date.now() >= deadline) throw this.timeoutError(lastError)
        this.logger().debug({ error: errorMessage(error) }, 'amqp: publish interrupted, sending again')
      }
    }
  }

  /** Waits (bounded) for the confirms still outstanding, so close() loses no accepted publish. */
  async flush(timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs
    while (this.inFlight.size > 0 && Date.now() < until) await pause(5)
  }

  private send(channel: ConfirmChannel, request: PublishRequest, deadline: number): Promise<boolean> {
    const drained = this.drained
    if (drained) return drained.then(() => this.send(this.channel ?? channel, request, deadline))
    return new Promise<boolean>((resolve, reject) => {
      const token = request.mandatory ? `${++this.tokenSequence}` : undefined
      const options: Options.Publish = token
        ? {
            ...request.options,
            mandatory: true,
            headers: { ...(request.options.headers as object | undefined), [RETURN_TOKEN_HEADER]: token },
          }
        : request.options
      const entry: InFlight = { deadline, reject, settled: false }
      let writable: boolean
      try {
        writable = channel.publish(
          request.exchange,
          request.routingKey,
          request.body,
          options,
          (error: unknown) => {
            if (entry.settled) return
            entry.settled = true
            this.inFlight.delete(entry)
            if (error) {
              reject(errorMessage(error) === 'message nacked' ? new Nacked('nacked') : (error as Error))
            } else resolve(token === undefined || !this.returned.delete(token))
          },
        )
      } catch (error) {
        reject(error as Error) // the channel closed under us
        return
      }
      this.inFlight.add(entry)
      this.startSweeper()
      if (!writable && !this.drained) {
        this.drained = new Promise<void>((done) => {
          const finish = (): void => {
            channel.off('drain', finish)
            channel.off('close', finish)
            this.drained = undefined
            done()
          }
          channel.on('drain', finish)
          channel.on('close', finish)
        })
      }
    })
  }

  private getChannel(deadline: number): Promise<ConfirmChannel> {
    if (this.channel) return Promise.resolve(this.channel)
    this.opening ??= this.openChannel(deadline).finally(() => {
      this.opening = undefined
    })
    return this.opening
  }

  private async openChannel(deadline: number): Promise<ConfirmChannel> {
    const model = await this.connection.waitForConnection(deadline)
    const channel = await model.createConfirmChannel()
    channel.on('error', (error: unknown) =>
      this.logger().warn({ error: errorMessage(error) }, 'amqp: publishing channel closed by the broker'),
    )
    channel.on('return', (message: Message) => {
      const token = message.properties.headers?.[RETURN_TOKEN_HEADER]
      if (typeof token === 'string') this.returned.add(token)
    })
    channel.on('close', () => {
      if (this.channel === channel) this.channel = undefined
      this.returned.clear()
    })
    this.channel = channel
    return channel
  }

  private startSweeper(): void {
    if (this.sweeper) return
    this.sweeper = setInterval(() => {
      const now = Date.now()
      for (const entry of this.inFlight) {
        if (entry.deadline > now) continue
        entry.settled = true
        this.inFlight.delete(entry)
        entry.reject(new ConfirmTimeout('no confirm'))
      }
      if (this.inFlight.size === 0) {
        clearInterval(this.sweeper)
        this.sweeper = undefined
      }
    }, SWEEP_INTERVAL_MS)
    this.sweeper.unref()
  }

  private timeoutError(cause: unknown): PublishError {
    if (cause instanceof PublishError) return cause
    return new PublishError(
      `RabbitMQ did not confirm the message within publishTimeoutMs=${this.publishTimeoutMs} (${errorMessage(cause)}): the broker is unreachable or overloaded. The transport keeps reconnecting; publish again later.`,
      { cause },
    )
  }
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
