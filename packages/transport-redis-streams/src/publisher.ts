import { type OutgoingMessage, PublishError } from '@tidings/core'
import type { Cluster, Redis } from 'ioredis'
import { Deadlines } from './deadline.js'
import { errorMessage } from './errors.js'
import type { NamespaceKeys } from './keys.js'
import type { ResolvedOptions } from './options.js'

/** Publishes waiting for the batch that carries them; flat arrays, so a busy publisher allocates little. */
interface Batch {
  readonly messages: OutgoingMessage[]
  readonly settlers: { resolve: () => void; reject: (error: Error) => void }[]
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
      batch = { messages: [], settlers: [] }
      this.batch = batch
      // After the current tick's microtasks: a loop of publish() calls shares one pipeline.
      process.nextTick(this.flush)
    }
    batch.messages.push(message)
    const settlers = batch.settlers
    return new Promise<void>((resolve, reject) => {
      settlers.push({ resolve, reject })
    })
  }

  private readonly flush = (): void => {
    const batch = this.batch
    if (batch === undefined) return
    this.batch = undefined
    const pipeline = this.client.pipeline()
    for (const message of batch.messages) {
      // ioredis copies a whole command into one new Buffer when any argument is a Buffer; a string
      // argument is written as is, so send core's text (the same UTF-8 bytes) and never make the Buffer.
      if (message.key === undefined) {
        pipeline.xadd(
          this.stream,
          ...this.idArgs,
          'type',
          message.type,
          'id',
          message.id,
          'body',
          message.text,
        )
      } else {
        pipeline.xadd(
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
        )
      }
    }
    const { publishTimeoutMs } = this.options
    const { messages, settlers } = batch
    this.deadlines
      .bound(pipeline.exec(), publishTimeoutMs, () => TIMED_OUT)
      .then(
        (results) => {
          for (let i = 0; i < settlers.length; i += 1) {
            const error = results?.[i]?.[0]
            if (error) settlers[i]!.reject(refused(messages[i]!, error))
            else settlers[i]!.resolve()
          }
        },
        (error: unknown) => {
          const timedOut = error === TIMED_OUT
          for (let i = 0; i < settlers.length; i += 1) {
            settlers[i]!.reject(
              timedOut ? notAccepted(messages[i]!, publishTimeoutMs) : refused(messages[i]!, error),
            )
          }
        },
      )
  }
}

/** What the deadline rejects with; each caller then gets a PublishError naming its own event. */
const TIMED_OUT = new Error('publishTimeoutMs elapsed')

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
