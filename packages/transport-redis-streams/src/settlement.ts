import {
  type DeadLetterInstruction,
  type Logger,
  type RetryInstruction,
  TransportClosedError,
} from '@tidings/core/transport'
import type { Cluster, Redis } from 'ioredis'
import type { Acker } from './acker.js'
import type { DelayedRetryMover } from './delayed-retries.js'
import type { DeliveryOwner, StreamDelivery } from './delivery.js'
import { encodeRetryMeta } from './entries.js'
import { errorMessage, isNoGroupError } from './errors.js'
import type { GroupKeys } from './keys.js'
import { extendLeases, releaseToGroup } from './reclaimer.js'
import type { Scripts } from './scripts.js'

export interface SettlementDeps {
  readonly client: Redis | Cluster
  readonly scripts: Scripts
  readonly groupKeys: GroupKeys
  readonly group: string
  readonly consumerName: string
  readonly ackTimeoutMs: number
  readonly acker: Acker
  readonly mover: DelayedRetryMover
  readonly logger: Logger
  /** The entry no longer occupies room in this process. */
  readonly release: (delivery: StreamDelivery) => void
  /** A command found no group (Redis lost its data): the read loop recreates it. */
  readonly groupsMissing: () => void
  readonly closed: () => boolean
}

const RESOLVED: Promise<void> = Promise.resolve()

/**
 * What core decides about an entry, done on Redis: ack (batched XACK), retry (a Lua script moves the
 * entry to the delayed set or the retry stream with its new attempt and history, and acks it), dead
 * letter (a script copies it to the group's dead-letter stream and acks it), release (back to the
 * group at once) and lease renewal (an XCLAIM refresh by this consumer only).
 */
export class Settlement implements DeliveryOwner {
  constructor(private readonly deps: SettlementDeps) {}

  /**
   * An ack needs no confirmation for at-least-once: if the XACK is lost, the entry stays pending and
   * is reclaimed after ackTimeoutMs (a duplicate, never a loss). So the slot is freed as soon as the
   * XACK is queued, and the next read does not wait a round trip for its reply (close() flushes).
   */
  ackEntry(delivery: StreamDelivery): Promise<void> {
    const refused = this.begin(delivery)
    if (refused) return refused
    this.deps.acker.ack(delivery.stream, delivery.entryId)
    this.deps.release(delivery)
    return RESOLVED
  }

  retryEntry(delivery: StreamDelivery, instruction: RetryInstruction): Promise<void> {
    const refused = this.begin(delivery)
    if (refused) return refused
    const { scripts, groupKeys, group, mover } = this.deps
    const delayMs = Math.max(0, Math.ceil(instruction.delayMs))
    const meta = encodeRetryMeta({
      type: delivery.type,
      id: delivery.eventId,
      attempt: instruction.attempt,
      history: instruction.history,
    })
    return scripts
      .run(
        'tidingsRetry',
        [delivery.stream, groupKeys.delayed, groupKeys.retry],
        [group, delivery.entryId, delayMs, meta, delivery.text],
      )
      .then(
        () => {
          if (delayMs > 0) mover.nudge(delayMs)
          this.deps.release(delivery)
        },
        (error: unknown) => this.failed(delivery, error),
      )
  }

  deadLetterEntry(delivery: StreamDelivery, record: DeadLetterInstruction): Promise<void> {
    const refused = this.begin(delivery)
    if (refused) return refused
    const { scripts, groupKeys, group } = this.deps
    return scripts
      .run(
        'tidingsDeadLetter',
        [delivery.stream, groupKeys.dlq],
        [
          group,
          delivery.entryId,
          delivery.text,
          'id',
          record.id,
          'type',
          record.type ?? delivery.type ?? '',
          'history',
          JSON.stringify(record.history),
          'reason',
          record.reason,
          'deadLetteredAt',
          new Date().toISOString(),
        ],
      )
      .then(
        () => this.deps.release(delivery),
        (error: unknown) => this.failed(delivery, error),
      )
  }

  /** Core will not handle it: back to the group at once, not counted as a delivery. */
  releaseEntry(delivery: StreamDelivery): Promise<void> {
    const refused = this.begin(delivery)
    if (refused) return refused
    const { client, group, consumerName, ackTimeoutMs, logger } = this.deps
    this.deps.release(delivery)
    return releaseToGroup(
      client,
      delivery.stream,
      group,
      consumerName,
      [{ id: delivery.entryId, deliveryCount: delivery.deliveryCount }],
      ackTimeoutMs,
    ).then(
      () => undefined,
      (error: unknown) =>
        logger.debug(
          { group, error: errorMessage(error) },
          'could not release an entry; it is redelivered after ackTimeoutMs',
        ),
    )
  }

  /** Core renews the lease of every delivery it holds. */
  async extendEntry(delivery: StreamDelivery): Promise<void> {
    if (delivery.settled || delivery.released) return
    const { scripts, group, consumerName, logger } = this.deps
    const lost = await extendLeases(scripts, delivery.stream, group, consumerName, [delivery.entryId])
    if (lost.length > 0) {
      // Taken over by another process (the lease lapsed): the handler here just finishes, and its
      // late settlement finds the entry gone.
      logger.debug({ group, entries: lost.length }, 'leases lost to another process')
    }
  }

  /** Undefined when the settlement may go ahead; otherwise what to return instead. */
  private begin(delivery: StreamDelivery): Promise<void> | undefined {
    if (delivery.settled) {
      // The kit's double-settle rule (SettleOnce), kept as a flag on the reused delivery object: the
      // first settlement wins, a second is ignored with a warning, never acked twice.
      this.deps.logger.warn(
        { group: this.deps.group },
        'a delivery was settled twice; the second settlement was ignored',
      )
      return RESOLVED
    }
    if (this.deps.closed()) return Promise.reject(new TransportClosedError('settle a delivery'))
    delivery.settled = true
    return undefined
  }

  private failed(delivery: StreamDelivery, error: unknown): never {
    if (isNoGroupError(error)) this.deps.groupsMissing()
    // Not settled on the server: the entry stays pending and is redelivered after ackTimeoutMs.
    this.deps.release(delivery)
    throw error
  }
}
