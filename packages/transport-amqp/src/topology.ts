import type { Channel } from 'amqplib'
import type { QueueType } from './options.js'

/**
 * Every broker resource of one namespace (SPEC §5). Group names never contain dots, so the
 * suffixes below (`.dlq`, `.wait.<ms>`) cannot collide with another group's queue.
 */
export class Names {
  /** Every queue this transport declared (tests and tools use it to clean up). */
  readonly declaredQueues = new Set<string>()

  constructor(readonly namespace: string) {}

  /** The namespace's exchanges. */
  get exchanges(): readonly string[] {
    return [this.events, this.retry, this.deadLetter]
  }

  /** Topic exchange every event is published to; routing key = event name. */
  get events(): string {
    return `${this.namespace}.events`
  }
  /** Direct exchange that routes retries and replays to ONE group queue; routing key = group. */
  get retry(): string {
    return `${this.namespace}.retry`
  }
  /** Direct exchange in front of the dead-letter queues; routing key = group. */
  get deadLetter(): string {
    return `${this.namespace}.dlx`
  }
  /**
   * The namespace's registry of groups (AMQP cannot list queues). No group queue can have this
   * name: a group's own queues end in its name, `.dlq` or `.wait.<ms>`.
   */
  get registry(): string {
    return `${this.namespace}.registry.groups`
  }
  groupQueue(group: string): string {
    return `${this.namespace}.${group}`
  }
  deadLetterQueue(group: string): string {
    return `${this.namespace}.${group}.dlq`
  }
  waitQueue(group: string, delayMs: number): string {
    return `${this.namespace}.${group}.wait.${delayMs}`
  }
}

export interface GroupTopology {
  readonly group: string
  readonly patterns: readonly string[]
  readonly durable: boolean
  readonly queueType: QueueType
  readonly deliveryLimit: number
}

/** How long an ephemeral group's queue outlives a process that died without closing. */
export const EPHEMERAL_QUEUE_EXPIRES_MS = 60_000

/** The three exchanges of a namespace. Idempotent. */
export async function declareExchanges(channel: Channel, names: Names): Promise<void> {
  await Promise.all([
    channel.assertExchange(names.events, 'topic', { durable: true }),
    channel.assertExchange(names.retry, 'direct', { durable: true }),
    channel.assertExchange(names.deadLetter, 'direct', { durable: true }),
  ])
}

/**
 * A group's queue, bound to the events exchange with each pattern (AMQP topic semantics are SPEC
 * G3's) and to the retry exchange by the group name, plus its dead-letter queue. Idempotent.
 * Group queues dead-letter into the DLQ too, so a quorum queue's delivery limit lands there.
 */
export async function declareGroup(channel: Channel, names: Names, topology: GroupTopology): Promise<string> {
  const { group } = topology
  const queue = names.groupQueue(group)
  names.declaredQueues.add(queue).add(names.deadLetterQueue(group))
  const deadLetterArguments = {
    'x-dead-letter-exchange': names.deadLetter,
    'x-dead-letter-routing-key': group,
  }
  if (topology.durable) {
    const quorum = topology.queueType === 'quorum'
    await channel.assertQueue(queue, {
      durable: true,
      arguments: {
        'x-queue-type': topology.queueType,
        ...deadLetterArguments,
        ...(quorum ? { 'x-delivery-limit': topology.deliveryLimit } : {}),
      },
    })
    await channel.assertQueue(names.deadLetterQueue(group), {
      durable: true,
      arguments: { 'x-queue-type': topology.queueType },
    })
  } else {
    // Ephemeral: non-durable, deleted on close(), and by the broker a minute after a crashed process.
    const ephemeral = { 'x-queue-type': 'classic', 'x-expires': EPHEMERAL_QUEUE_EXPIRES_MS }
    await channel.assertQueue(queue, { durable: false, arguments: { ...ephemeral, ...deadLetterArguments } })
    await channel.assertQueue(names.deadLetterQueue(group), { durable: false, arguments: ephemeral })
  }
  await Promise.all([
    channel.bindQueue(names.deadLetterQueue(group), names.deadLetter, group),
    channel.bindQueue(queue, names.retry, group),
    ...topology.patterns.map((pattern) => channel.bindQueue(queue, names.events, pattern)),
  ])
  return queue
}
