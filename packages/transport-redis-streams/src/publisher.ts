import type { Socket } from 'node:net'
import { type OutgoingMessage, PublishError } from '@tidings/core'
import type { Cluster, Redis } from 'ioredis'
import { errorMessage } from './errors.js'
import type { NamespaceKeys } from './keys.js'
import type { ResolvedOptions } from './options.js'
import { PublishTimeouts, type TimedPublish } from './publish-timeouts.js'

/**
 * Publishing is one XADD to `{ns}:events` (fields: type, id, [key], body). The XADD reply is Redis'
 * acceptance (G11); how durable that is depends on the server's persistence (see the README).
 *
 * Each publish() is its own XADD command with its own reply, so one refused XADD fails only its own
 * publish, and a lone publish is written to the socket at once. When several publishes come in one
 * tick (a loop, or replies that free a window of awaiting callers), the second and later ones are
 * held in the socket (cork) until the end of the tick and leave in one write: one system call for
 * the burst, with no pipeline object and no concatenated copy of every command. During an outage
 * ioredis queues the XADDs and sends them on reconnect; publish() gives up after publishTimeoutMs
 * with a PublishError (the queued XADD may still go out later: a duplicate, never a loss).
 */
export class Publisher {
  private readonly stream: string
  /** XADD's arguments between the key and the fields: an optional MAXLEN cap, then the id `*`. */
  private readonly idArgs: readonly (string | number)[]
  private readonly timeouts: PublishTimeouts<PendingPublish>
  /** A publish() already ran in this tick: the next ones are corked. */
  private inTick = false
  /** The socket corked in this tick (uncorked at its end), if any. */
  private corked: Socket | undefined

  constructor(
    private readonly client: Redis | Cluster,
    keys: NamespaceKeys,
    private readonly options: ResolvedOptions,
  ) {
    this.stream = keys.events
    this.idArgs =
      options.maxStreamLength === undefined ? ['*'] : ['MAXLEN', '~', options.maxStreamLength, '*']
    this.timeouts = new PublishTimeouts(options.publishTimeoutMs)
  }

  publish(message: OutgoingMessage): Promise<void> {
    if (this.inTick) {
      if (this.corked === undefined) this.cork()
    } else {
      this.inTick = true
      process.nextTick(this.endTick)
    }
    return new Promise<void>((resolve, reject) => {
      const pending = new PendingPublish(message, resolve, reject, this.options.publishTimeoutMs)
      this.timeouts.add(pending)
      this.client.xadd(...this.xaddArgs(message)).then(pending.accepted, pending.refused)
    })
  }

  /**
   * Holds this tick's next writes in the socket. Only on a ready single-node client: a Cluster has a
   * socket per node, and a client that is not ready queues commands instead of writing them.
   */
  private cork(): void {
    const client = this.client as Redis
    const socket = client.stream as Socket | undefined
    if (client.status !== 'ready' || socket === undefined || typeof socket.cork !== 'function') return
    socket.cork()
    this.corked = socket
  }

  private readonly endTick = (): void => {
    this.inTick = false
    const socket = this.corked
    if (socket === undefined) return
    this.corked = undefined
    socket.uncork()
  }

  /**
   * ioredis copies a whole command into one new Buffer when any argument is a Buffer; a string
   * argument is written as is, so send core's text (the same UTF-8 bytes) and never make the Buffer.
   */
  private xaddArgs(message: OutgoingMessage): [string, ...(string | number)[]] {
    return message.key === undefined
      ? [this.stream, ...this.idArgs, 'type', message.type, 'id', message.id, 'body', message.text]
      : [
          this.stream,
          ...this.idArgs,
          'type',
          message.type,
          'id',
          message.id,
          'key',
          message.key,
          'body',
          message.text,
        ]
  }
}

/** One publish() waiting for its XADD reply or its timeout, whichever comes first. */
class PendingPublish implements TimedPublish {
  settled = false
  due = 0

  constructor(
    private readonly message: OutgoingMessage,
    private readonly resolve: () => void,
    private readonly reject: (error: Error) => void,
    private readonly publishTimeoutMs: number,
  ) {}

  readonly accepted = (): void => {
    if (this.settled) return
    this.settled = true
    this.resolve()
  }

  readonly refused = (error: unknown): void => {
    if (this.settled) return
    this.settled = true
    this.reject(refused(this.message, error))
  }

  expire(): void {
    this.settled = true
    this.reject(notAccepted(this.message, this.publishTimeoutMs))
  }
}

function notAccepted(message: OutgoingMessage, publishTimeoutMs: number): PublishError {
  return new PublishError(
    `Redis did not accept the event "${message.type}" within publishTimeoutMs=${publishTimeoutMs} ms (is the server reachable?): publish again once Redis is back, or raise publishTimeoutMs.`,
  )
}

function refused(message: OutgoingMessage, error: unknown): PublishError {
  return new PublishError(
    `Redis rejected the event "${message.type}" (${errorMessage(error)}): check that the server accepts writes (memory, replica read-only, ACL).`,
    { cause: error },
  )
}
