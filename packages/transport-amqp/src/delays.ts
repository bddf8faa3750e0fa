import type { ChannelModel } from 'amqplib'
import type { ConnectionManager } from './connection-manager.js'
import type { GroupRegistry } from './group-registry.js'
import type { Names } from './topology.js'

/**
 * Delayed retries without head-of-line blocking (SPEC G4) on a RabbitMQ without the delayed-message
 * plugin: one wait queue per (group, delay) with a queue-wide `x-message-ttl`. Every message in a
 * wait queue has the same TTL, so the queue's head is always the next one due: expiry in FIFO order
 * is exact, and a long delay never sits in front of a short one (they live in different queues).
 * An expired message is dead-lettered to the `<ns>.retry` direct exchange with routing key = group,
 * which is bound to that group's queue only.
 *
 * Delays are rounded UP to a grid so jittered back-offs do not create a queue per millisecond; the
 * rounding stays well inside G4's tolerance (max(1 s, 10 %)): 50 ms below 1 s, 250 ms below 10 s,
 * then 5 % of the decade (500 ms from 10 s, 5 s from 100 s, ...).
 */
export function bucketDelay(delayMs: number): number {
  if (!(delayMs > 0)) return 0
  const step = delayMs < 1_000 ? 50 : delayMs < 10_000 ? 250 : 10 ** Math.floor(Math.log10(delayMs)) / 20
  return Math.ceil(Math.ceil(delayMs) / step) * step
}

/** An idle wait queue disappears this long after its last message could have expired. */
export const WAIT_QUEUE_IDLE_MS = 60_000
/**
 * Publishing does not count as "use" for x-expires, so the queue is re-declared (which does) before
 * publishing whenever the last declaration is older than this. Any message published within this
 * window expires (after delayMs) long before the queue could (delayMs + WAIT_QUEUE_IDLE_MS).
 */
const REDECLARE_AFTER_MS = 20_000

export class WaitQueues {
  private readonly declared = new Map<string, { readonly at: number; readonly model: ChannelModel }>()
  private readonly declaring = new Map<string, Promise<void>>()

  constructor(
    private readonly connection: ConnectionManager,
    private readonly names: Names,
    private readonly registry: GroupRegistry,
  ) {}

  /** The wait queue for `delayMs` (already bucketed, > 0), declared recently enough to be safe to publish to. */
  async ensure(group: string, delayMs: number, deadline: number): Promise<string> {
    const queue = this.names.waitQueue(group, delayMs)
    const known = this.declared.get(queue)
    if (known && known.model === this.connection.current && Date.now() - known.at < REDECLARE_AFTER_MS)
      return queue
    let declaring = this.declaring.get(queue)
    if (!declaring) {
      declaring = this.declare(queue, group, delayMs, deadline).finally(() => this.declaring.delete(queue))
      this.declaring.set(queue, declaring)
    }
    await declaring
    return queue
  }

  /** The queue was found missing (a publish came back unroutable): declare it again next time. */
  forget(queue: string): void {
    this.declared.delete(queue)
  }

  private async declare(queue: string, group: string, delayMs: number, deadline: number): Promise<void> {
    const startedAt = Date.now()
    this.names.declaredQueues.add(queue)
    const model = await this.connection.waitForConnection(deadline, 'retry')
    await this.connection.withChannel(deadline, 'retry', async (channel) => {
      await channel.assertQueue(queue, {
        durable: true,
        arguments: {
          'x-queue-type': 'classic',
          'x-message-ttl': delayMs,
          'x-dead-letter-exchange': this.names.retry,
          'x-dead-letter-routing-key': group,
          'x-expires': delayMs + WAIT_QUEUE_IDLE_MS,
        },
      })
      await this.registry.register(channel, { group, waitQueue: queue })
    })
    this.declared.set(queue, { at: startedAt, model })
  }
}
