import { type OutgoingMessage, PublishError } from '@tidings/core'
import type { Cluster, Redis } from 'ioredis'
import { Deadlines } from './deadline.js'
import { errorMessage } from './errors.js'
import type { NamespaceKeys } from './keys.js'
import type { ResolvedOptions } from './options.js'

/**
 * Publishing is one XADD to `{ns}:events` (fields: type, id, [key], body). The XADD reply is Redis'
 * acceptance (G11); how durable that is depends on the server's persistence (see the README). During
 * an outage ioredis queues the command and sends it on reconnect; publish() gives up after
 * publishTimeoutMs with a PublishError (the queued command may still go out later: a duplicate,
 * never a loss).
 */
export class Publisher {
  private readonly prefix: (string | number)[]
  private readonly deadlines = new Deadlines()

  constructor(
    private readonly client: Redis | Cluster,
    keys: NamespaceKeys,
    private readonly options: ResolvedOptions,
  ) {
    this.prefix =
      options.maxStreamLength === undefined
        ? [keys.events, '*']
        : [keys.events, 'MAXLEN', '~', options.maxStreamLength, '*']
  }

  async publish(message: OutgoingMessage): Promise<void> {
    const args: (string | number | Buffer)[] = [...this.prefix, 'type', message.type, 'id', message.id]
    if (message.key !== undefined) args.push('key', message.key)
    // ioredis copies a whole command into one new Buffer when any argument is a Buffer; a string
    // argument is written as is, so send core's text (the same UTF-8 bytes) and never make the Buffer.
    args.push('body', message.text)
    const { publishTimeoutMs } = this.options
    try {
      await this.deadlines.bound(
        this.client.call('XADD', ...args),
        publishTimeoutMs,
        () =>
          new PublishError(
            `Redis did not accept the event "${message.type}" within publishTimeoutMs=${publishTimeoutMs} ms (is the server reachable?): publish again once Redis is back, or raise publishTimeoutMs.`,
          ),
      )
    } catch (error) {
      if (error instanceof PublishError) throw error
      throw new PublishError(
        `Redis rejected the event "${message.type}" (${errorMessage(error)}): check that the server accepts writes (memory, replica read-only, ACL).`,
        { cause: error },
      )
    }
  }
}
