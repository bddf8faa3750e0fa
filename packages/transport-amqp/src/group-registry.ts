import type { GroupStatus } from '@tidings/core/transport'
import type { Channel, GetMessage } from 'amqplib'
import type { ConnectionManager } from './connection-manager.js'
import { errorMessage } from './errors.js'
import type { Names } from './topology.js'

/**
 * AMQP 0-9-1 cannot list queues (only the management plugin's HTTP API can, and it is often off or
 * firewalled). So each group, and each wait queue of a group, is written once per process into a
 * registry queue of the namespace, `<ns>.groups`; `inspect()` reads it back, asks the broker for
 * each queue's counters (queue.declare passive), and compacts it: duplicates and entries whose queue
 * is gone are removed, the rest go back in their place when the channel closes (a classic queue
 * keeps the order of returned messages).
 *
 * Two inspections at the same instant may each see part of the registry (the other holds the rest
 * unacknowledged for a moment); nothing is lost. RabbitMQ over AMQP reports ready messages and
 * consumers, not unacknowledged ones, so `inFlight` is unknown here.
 */
export class GroupRegistry {
  private readonly written = new Set<string>()

  constructor(
    private readonly connection: ConnectionManager,
    private readonly names: Names,
    private readonly timeoutMs: number,
  ) {}

  /** Record a group (or one of its wait queues) once per process, on the channel that declared it. */
  async register(channel: Channel, entry: RegistryEntry): Promise<void> {
    const key = `${entry.group}\u0000${entry.waitQueue ?? ''}`
    if (this.written.has(key)) return
    this.names.declaredQueues.add(this.names.registry)
    await channel.assertQueue(this.names.registry, {
      durable: true,
      arguments: { 'x-queue-type': 'classic' },
    })
    channel.sendToQueue(this.names.registry, Buffer.from(JSON.stringify(entry)), { persistent: true })
    this.written.add(key)
  }

  async inspect(): Promise<GroupStatus[]> {
    const deadline = Date.now() + this.timeoutMs
    return this.connection.withChannel(deadline, 'inspect groups', async (registry) => {
      const depth = await this.depth(registry)
      const groups = new Map<string, { waitQueues: string[] }>()
      const kept: { message: GetMessage; entry: RegistryEntry }[] = []
      for (let taken = 0; taken < depth; taken += 1) {
        const message = await registry.get(this.names.registry, { noAck: false })
        if (message === false) break
        const entry = parseEntry(message.content)
        const known = entry && groups.get(entry.group)
        if (!entry || (known && (!entry.waitQueue || known.waitQueues.includes(entry.waitQueue)))) {
          registry.ack(message) // unreadable or a duplicate
          continue
        }
        if (known) known.waitQueues.push(entry.waitQueue!)
        else groups.set(entry.group, { waitQueues: entry.waitQueue ? [entry.waitQueue] : [] })
        kept.push({ message, entry })
      }
      const gone = new Set<string>()
      const statuses: GroupStatus[] = []
      for (const [group, { waitQueues }] of groups) {
        const queue = await this.check(this.names.groupQueue(group), deadline)
        if (!queue) {
          gone.add(group)
          continue
        }
        const deadLetters = await this.check(this.names.deadLetterQueue(group), deadline)
        let waitingRetries = 0
        for (const waitQueue of waitQueues) {
          const waiting = await this.check(waitQueue, deadline)
          if (waiting) waitingRetries += waiting.messageCount
          else gone.add(waitQueue)
        }
        statuses.push({
          group,
          pending: queue.messageCount,
          inFlight: undefined,
          waitingRetries,
          deadLetters: deadLetters?.messageCount ?? 0,
          consumers: queue.consumerCount,
        })
      }
      for (const { message, entry } of kept) {
        if (gone.has(entry.group) || (entry.waitQueue && gone.has(entry.waitQueue))) registry.ack(message)
      }
      return statuses.sort((a, b) => (a.group < b.group ? -1 : a.group > b.group ? 1 : 0))
    })
  }

  private async depth(channel: Channel): Promise<number> {
    // Declared (not checked) so a namespace without any group yet reads as empty, not as an error.
    this.names.declaredQueues.add(this.names.registry)
    const { messageCount } = await channel.assertQueue(this.names.registry, {
      durable: true,
      arguments: { 'x-queue-type': 'classic' },
    })
    return messageCount
  }

  /** A passive declare on its own channel: a missing queue closes the channel it is asked on. */
  private async check(
    queue: string,
    deadline: number,
  ): Promise<{ messageCount: number; consumerCount: number } | undefined> {
    try {
      return await this.connection.withChannel(deadline, 'inspect groups', (channel) =>
        channel.checkQueue(queue),
      )
    } catch (error) {
      if (/NOT_FOUND|404/.test(errorMessage(error))) return undefined
      throw error
    }
  }
}

export interface RegistryEntry {
  readonly group: string
  /** A wait queue of the group (delayed retries), when the entry is one. */
  readonly waitQueue?: string
}

function parseEntry(content: Buffer): RegistryEntry | undefined {
  try {
    const value = JSON.parse(content.toString('utf8')) as Partial<RegistryEntry>
    if (typeof value?.group !== 'string') return undefined
    return typeof value.waitQueue === 'string'
      ? { group: value.group, waitQueue: value.waitQueue }
      : { group: value.group }
  } catch {
    return undefined
  }
}
