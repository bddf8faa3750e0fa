import { type OutgoingMessage, PublishError } from '@tidings/core'
import type { Cluster, Redis } from 'ioredis'
import { Deadlines } from './deadline.js'
import { errorMessage } from './errors.js'
import type { NamespaceKeys } from './keys.js'
import type { ResolvedOptions } from './options.js'

/** Publishes waiting for the batch that carries them; flat arrays, so a busy publisher allocates little. */
interface Batch {
  readonly messages: OutgoingMessage[]
  readonly resolvers: (() => void)[]
  readonly rejecters: ((error: Error) => void)[]
}

/**
 * Publishing is one XADD to `{ns}:events` (fields: type, id, [key], body). The XADD reply is Redis'
 * acceptance (G11); how durable that is depends on the server's persistence (see the README).
 *
 * Every publish() of one tick goes out in one pipeline (one socket write, one deadline), and each
 * caller's promise settles with its own XADD's reply: a pipeline is not a transaction, so one refused
 * XADD fails only its own publish. During an outage ioredis queues the pipeline and sends it on
 * reconnect; publish() gives up after publishTimeoutMs with a PublishError (the queued XADD may
 * still go out later: a duplicate, never a loss).
 */
export class Publisher {
  private readonly stream: string
  /** XADD's arguments between the key and the fields: an optional MAXLEN cap, then the id `*`. */
  private readonly idArgs: readonly (string | number)[]
  private readonly deadlines = new Deadlines()
  private batch: Batch | undefined

  constructor(
    private readonly client: Redis | Cluster,
    keys: NamespaceKeys,
    private readonly options: ResolvedOptions,
  ) {
    this.stream = keys.events
    this.idArgs =
      options.maxStreamLength === undefined ? ['*'] : ['MAXLEN', '~', options.maxStreamLength, '*']
  }

  publish(message: OutgoingMessage): Promise<void> {
    let batch = this.batch
    if (batch === undefined) {
      batch = { messages: [], resolvers: [], rejecters: [] }
      this.batch = batch
      // After the current tick's microtasks: a loop of publish() calls shares one pipeline.
      process.nextTick(this.flush)
    }
    batch.messages.push(message)
    const { resolvers, rejecters } = batch
    return new Promise<void>((resolve, reject) => {
      resolvers.push(resolve)
      rejecters.push(reject)
    })
  }

  private readonly flush = (): void => {
    const batch = this.batch
    if (batch === undefined) return
    this.batch = undefined
    const { messages, resolvers, rejecters } = batch
    const { publishTimeoutMs } = this.options
    if (messages.length === 1) {
      // A lone publish (a quiet publisher) skips the pipeline's bookkeeping: one command, sent now.
      const message = messages[0]!
      const resolve = resolvers[0]!
      const reject = rejecters[0]!
      this.deadlines
        .bound(this.client.xadd(...this.xaddArgs(message)), publishTimeoutMs, () => TIMED_OUT)
        .then(
          () => resolve(),
          (error: unknown) => reject(failed(message, error, publishTimeoutMs)),
        )
      return
    }
    const pipeline = this.client.pipeline()
    for (const message of messages) pipeline.xadd(...this.xaddArgs(message))
    this.deadlines
      .bound(pipeline.exec(), publishTimeoutMs, () => TIMED_OUT)
      .then(
        (results) => {
          for (let i = 0; i < messages.length; i += 1) {
            const error = results?.[i]?.[0]
            if (error) rejecters[i]!(refused(messages[i]!, error))
            else resolvers[i]!()
          }
        },
        (error: unknown) => {
          for (let i = 0; i < messages.length; i += 1)
            rejecters[i]!(failed(messages[i]!, error, publishTimeoutMs))
        },
      )
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

/** What the deadline rejects with; each caller then gets a PublishError naming its own event. */
const TIMED_OUT = new Error('publishTimeoutMs elapsed')

/** The PublishError for one event of a send that failed or timed out as a whole. */
function failed(message: OutgoingMessage, error: unknown, publishTimeoutMs: number): PublishError {
  return error === TIMED_OUT ? notAccepted(message, publishTimeoutMs) : refused(message, error)
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
