import {
  compilePatterns,
  type DeadLetterInstruction,
  type DeliveryHandler,
  type Logger,
  type PatternMatcher,
  type RetryInstruction,
  type SubscribeOptions,
  type Subscription,
  TransportClosedError,
} from '@tidings/core'
import type { Cluster, Redis } from 'ioredis'
import { Acker } from './acker.js'
import { DelayedRetryMover } from './delayed-retries.js'
import { type DeliveryOwner, StreamDelivery } from './delivery.js'
import { encodeRetryMeta, fieldText, parseReadReply, type StreamEntry } from './entries.js'
import { atMost, CLOSE_STEP_MS, errorMessage, isBusyGroupError, isNoGroupError, sleep } from './errors.js'
import { HeldDeliveries } from './held-deliveries.js'
import type { GroupKeys, NamespaceKeys } from './keys.js'
import type { ResolvedOptions } from './options.js'
import { type ClaimedEntry, claimIdle, claimOwnPending, extendLeases, releaseToGroup } from './reclaimer.js'
import type { Scripts } from './scripts.js'

export interface ConsumerContext {
  /** Shared connection for every non-blocking command. */
  readonly client: Redis | Cluster
  /** This subscription's own connection, so a blocking XREADGROUP never stalls anything else. */
  readonly blocking: Redis | Cluster
  readonly scripts: Scripts
  readonly keys: NamespaceKeys
  readonly options: ResolvedOptions
  readonly logger: Logger
}

/**
 * One subscription of one group in this process. It reads the namespace's events stream and the
 * group's retry stream with one blocking XREADGROUP on its own connection, asking for no more
 * entries than it has room for, hands matching entries to core and acknowledges the others. When
 * a large batch arrives and there is room for another, the next read is sent before the batch is
 * handled, so Redis prepares it meanwhile instead of waiting a round trip.
 * Around the read loop: crash recovery (own pending entries first, then XAUTOCLAIM of entries idle
 * past ackTimeoutMs), lease extension while entries are held, and the delayed-retry mover.
 */
export class StreamConsumer implements Subscription, DeliveryOwner {
  readonly group: string
  private readonly groupKeys: GroupKeys
  private readonly streams: readonly [string, string]
  private readonly matches: PatternMatcher
  private readonly acker: Acker
  private readonly mover: DelayedRetryMover
  /** Entries owned by this process (events and retry stream), and those waiting for a handler slot. */
  private readonly held = new HeldDeliveries()
  /** COUNT of the XREADGROUP in flight (0 when none): entries that may arrive count as held. */
  private reading = 0
  private running = false
  private closed = false
  private groupsMissing = false
  private needOwnRecovery = true
  private wake: (() => void) | undefined
  private loopDone: Promise<void> = Promise.resolve()
  private claimTimer: NodeJS.Timeout | undefined
  private heartbeatTimer: NodeJS.Timeout | undefined
  private claiming = false
  private readonly onBlockingReady = (): void => {
    // After a reconnect, replies lost with the old connection left entries in our PEL: take them back.
    this.needOwnRecovery = true
  }

  constructor(
    private readonly context: ConsumerContext,
    readonly subscribeOptions: SubscribeOptions,
    private readonly onDelivery: DeliveryHandler,
  ) {
    this.group = subscribeOptions.group
    this.groupKeys = context.keys.group(this.group)
    this.streams = [context.keys.events, this.groupKeys.retry]
    this.matches = compilePatterns(subscribeOptions.patterns)
    this.acker = new Acker(context.client, this.group, (error, count) => {
      if (isNoGroupError(error)) this.groupsMissing = true
      this.context.logger.warn(
        { group: this.group, entries: count, error: errorMessage(error) },
        'XACK failed: the entries stay pending and will be redelivered',
      )
    })
    this.mover = new DelayedRetryMover(
      context.scripts,
      this.groupKeys,
      context.options.delayedPollMs,
      context.logger,
    )
  }

  get retryStream(): string {
    return this.groupKeys.retry
  }

  async start(): Promise<void> {
    await this.ensureGroups(false)
    if (!this.subscribeOptions.durable) await this.heartbeat()
    this.running = true
    this.context.blocking.on('ready', this.onBlockingReady)
    this.loopDone = this.loop()
    this.mover.start()
    const { ackTimeoutMs } = this.subscribeOptions
    const claimEvery =
      this.context.options.claimIntervalMs ?? Math.min(5000, Math.max(50, Math.floor(ackTimeoutMs / 4)))
    this.claimTimer = setInterval(() => void this.reclaim(), claimEvery)
    this.claimTimer.unref()
    if (!this.subscribeOptions.durable) {
      // Well within ephemeralExpiryMs, so a live process's ephemeral group is never taken for dead.
      const beatEvery = this.context.options.ephemeralExpiryMs / 4
      this.heartbeatTimer = setInterval(() => void this.beat(), Math.max(10, Math.floor(beatEvery)))
      this.heartbeatTimer.unref()
    }
  }

  /** Stop fetching. Deliveries already handed to core can still be settled (and keep their lease). */
  async stop(): Promise<void> {
    if (!this.running) return
    this.running = false
    this.mover.stop()
    if (this.claimTimer) clearInterval(this.claimTimer)
    this.context.blocking.off('ready', this.onBlockingReady)
    this.wake?.()
    // Cuts a pending blocking read short; the connection belongs to this subscription.
    this.context.blocking.disconnect()
    await atMost(this.loopDone, CLOSE_STEP_MS)
  }

  /** Stop for good: no more lease extension, pending acks flushed, an ephemeral group removed. */
  async close(): Promise<void> {
    await this.stop()
    this.closed = true
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer)
    // Bounded: close() finishes while Redis is unreachable (G10); see atMost for what stays undone.
    await atMost(this.acker.flush(), CLOSE_STEP_MS)
    if (!this.subscribeOptions.durable) await atMost(this.removeEphemeralGroup(), CLOSE_STEP_MS)
  }

  // ---- groups -------------------------------------------------------------------------------

  /**
   * Creates the group on the events stream (at `$`: it gets every event published from now on) and on
   * its retry stream (at `0`). After data loss (NOGROUP) a durable group is recreated at `0`: whatever
   * the new streams already hold was published after the loss and belongs to the group.
   */
  private async ensureGroups(recovering: boolean): Promise<void> {
    const { client } = this.context
    const create = async (key: string, from: string): Promise<void> => {
      try {
        await client.call('XGROUP', 'CREATE', key, this.group, from, 'MKSTREAM')
      } catch (error) {
        if (!isBusyGroupError(error)) throw error
      }
    }
    // A durable group recovering from data loss takes everything published since; an ephemeral one
    // (a tail whose group retention removed while its process was paused) only what comes next.
    await create(this.streams[0], recovering && this.subscribeOptions.durable ? '0' : '$')
    await create(this.streams[1], '0')
    if (recovering)
      this.context.logger.warn(
        { group: this.group },
        'consumer group was missing (Redis lost its data?); recreated it',
      )
  }

  private async heartbeat(): Promise<void> {
    await this.context.scripts.run('tidingsHeartbeat', [this.context.keys.ephemeral], [this.group])
  }

  private async removeEphemeralGroup(): Promise<void> {
    const { client, keys } = this.context
    try {
      await client.call('XGROUP', 'DESTROY', keys.events, this.group)
      await client.del(this.groupKeys.retry, this.groupKeys.delayed, this.groupKeys.dlq)
      await client.zrem(keys.ephemeral, this.group)
    } catch (error) {
      this.context.logger.warn(
        { group: this.group, error: errorMessage(error) },
        'could not remove ephemeral group',
      )
    }
  }

  // ---- reading ------------------------------------------------------------------------------

  /** Entries this process may hold: its handler slots plus room for read-ahead. */
  private get capacity(): number {
    const { concurrency } = this.subscribeOptions
    return concurrency + (this.context.options.readAhead ?? concurrency)
  }

  /** Entries one read asks for: half the room, so a second read fits while a batch is handled. */
  private get batchSize(): number {
    return Math.max(1, Math.floor(this.capacity / 2))
  }

  private get busyReply(): number {
    return Math.max(2, Math.ceil(this.batchSize / 2))
  }

  /** Entries this process may still take, counting those a read in flight may return. */
  private get free(): number {
    return this.capacity - this.held.size - this.reading
  }

  private read(count: number): Promise<unknown> {
    this.reading = count
    return this.context.blocking.call(
      'XREADGROUP',
      'GROUP',
      this.group,
      this.subscribeOptions.consumerName,
      'COUNT',
      count,
      'BLOCK',
      this.context.options.blockMs,
      'STREAMS',
      this.streams[0],
      this.streams[1],
      '>',
      '>',
    )
  }

  private async loop(): Promise<void> {
    const { logger } = this.context
    let failures = 0
    let pending: Promise<unknown> | undefined
    while (this.running) {
      try {
        if (pending === undefined) {
          if (this.groupsMissing) {
            this.groupsMissing = false
            await this.ensureGroups(true)
            continue
          }
          if (this.needOwnRecovery) {
            this.needOwnRecovery = false
            await this.recoverOwnPending()
            continue
          }
          // Read in batches: wait until a batch fits rather than re-reading per freed slot.
          const free = this.free
          if (free < this.batchSize) {
            await this.waitForSlot()
            continue
          }
          pending = this.read(Math.min(free, this.batchSize))
        }
        const reply = await pending
        pending = undefined
        this.reading = 0
        failures = 0
        const batch = parseReadReply(reply)
        let received = 0
        for (const entries of batch.values()) received += entries.length
        // A busy stream (a reply at least half a batch): ask for the next batch before handling this
        // one. A quiet one reads after handling, so a lone event does not wait for that write.
        if (this.running && received >= this.busyReply && !this.groupsMissing && !this.needOwnRecovery) {
          const room = this.free - received
          if (room >= this.batchSize) pending = this.read(this.batchSize)
        }
        // Also when stopping: core releases what no handler started (release() → back to the group).
        for (const [stream, entries] of batch) this.accept(stream, entries, false)
      } catch (error) {
        // A read sent ahead whose batch could not be taken: its outcome no longer matters.
        pending?.catch(() => {})
        pending = undefined
        this.reading = 0
        if (!this.running) break
        if (isNoGroupError(error)) {
          this.groupsMissing = true
          continue
        }
        failures += 1
        if (failures === 1 || failures % 20 === 0) {
          logger.warn(
            { group: this.group, error: errorMessage(error) },
            'reading from Redis failed; retrying',
          )
        }
        await sleep(Math.min(2000, 25 * 2 ** Math.min(failures, 7)))
      }
    }
  }

  private waitForSlot(): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve
    })
  }

  private async recoverOwnPending(): Promise<void> {
    const { client } = this.context
    const { consumerName, concurrency } = this.subscribeOptions
    for (const stream of this.streams) {
      let after: string | undefined
      do {
        if (!this.running) return
        if (this.free <= 0) {
          await this.waitForSlot()
          continue
        }
        const page = await claimOwnPending(
          client,
          stream,
          this.group,
          consumerName,
          after,
          Math.max(concurrency, 10),
          (id) => this.held.has(stream, id),
        )
        this.acceptClaimed(stream, page.claimed)
        after = page.next
      } while (after !== undefined)
    }
  }

  private async reclaim(): Promise<void> {
    if (!this.running || this.claiming) return
    this.claiming = true
    const { client } = this.context
    try {
      for (const stream of this.streams) {
        const free = this.free
        if (free <= 0 || !this.running) break
        const claimed = await claimIdle(
          client,
          stream,
          this.group,
          this.subscribeOptions.consumerName,
          this.subscribeOptions.ackTimeoutMs,
          // Ask past the entries held here, which XPENDING lists too but claimIdle leaves alone.
          free + this.held.size,
          (id) => this.held.has(stream, id),
        )
        if (this.running) this.acceptClaimed(stream, claimed)
      }
    } catch (error) {
      if (isNoGroupError(error)) this.groupsMissing = true
      else this.context.logger.debug({ group: this.group, error: errorMessage(error) }, 'XAUTOCLAIM failed')
    } finally {
      this.claiming = false
    }
  }

  private acceptClaimed(stream: string, claimed: readonly ClaimedEntry[]): void {
    this.accept(
      stream,
      claimed.map((each) => each.entry),
      true,
      claimed.map((each) => each.deliveryCount),
    )
  }

  /**
   * Hold newly owned entries (delivered once unless `deliveryCounts` says otherwise); entries of the
   * events stream the group does not listen to are acked at once. Only claims can return an entry
   * this process already holds: a read with `>` returns entries never delivered before.
   */
  private accept(
    stream: string,
    entries: readonly StreamEntry<string>[],
    claimed: boolean,
    deliveryCounts?: readonly number[],
  ): void {
    const fromRetry = stream !== this.streams[0]
    let ignored: string[] | undefined
    for (let index = 0; index < entries.length; index += 1) {
      const entry = entries[index]!
      const deliveryCount = deliveryCounts?.[index] ?? 1
      if (claimed && this.held.has(stream, entry.id)) continue
      if (!fromRetry) {
        const type = fieldText(entry, 'type')
        // No type field (a foreign publisher): hand it to core, which decodes and decides.
        if (type !== undefined && !this.matches(type)) {
          ignored ??= []
          ignored.push(entry.id)
          continue
        }
      }
      const delivery = new StreamDelivery(this, stream, entry, deliveryCount, fromRetry)
      this.held.add(delivery)
      // Straight to core, which runs `concurrency` at once and holds the rest in order with their
      // leases renewed: one gate, core's. Reading only into free room bounds what is handed over (G9).
      this.deliver(delivery)
    }
    if (ignored) this.acker.ackMany(stream, ignored)
  }

  // ---- deliveries ---------------------------------------------------------------------------

  private deliver(delivery: StreamDelivery): void {
    let result: Promise<void>
    try {
      result = this.onDelivery(delivery)
    } catch (error) {
      this.handlerFailed(delivery, error)
      return
    }
    // A synchronous handler that acked has released the slot already: no promise to follow. (The
    // port promises that core's promise never rejects, so none is left unhandled.)
    if (delivery.released) return
    result.then(
      () => this.release(delivery),
      (error: unknown) => this.handlerFailed(delivery, error),
    )
  }

  private handlerFailed(delivery: StreamDelivery, error: unknown): void {
    this.context.logger.error({ group: this.group, error: errorMessage(error) }, 'delivery handler failed')
    this.release(delivery)
  }

  /**
   * An ack needs no confirmation for at-least-once: if the XACK is lost, the entry stays pending and
   * is reclaimed after ackTimeoutMs (a duplicate, never a loss). So the slot is freed as soon as the
   * XACK is queued, and the next read does not wait a round trip for its reply (close() flushes).
   */
  ackEntry(delivery: StreamDelivery): Promise<void> {
    const refused = this.beginSettle(delivery)
    if (refused) return refused
    this.acker.ack(delivery.stream, delivery.entryId)
    this.release(delivery)
    return RESOLVED
  }

  retryEntry(delivery: StreamDelivery, instruction: RetryInstruction): Promise<void> {
    const refused = this.beginSettle(delivery)
    if (refused) return refused
    const delayMs = Math.max(0, Math.ceil(instruction.delayMs))
    const meta = encodeRetryMeta({
      type: delivery.type,
      id: delivery.eventId,
      attempt: instruction.attempt,
      history: instruction.history,
    })
    return this.context.scripts
      .run(
        'tidingsRetry',
        [delivery.stream, this.groupKeys.delayed, this.groupKeys.retry],
        [this.group, delivery.entryId, delayMs, meta, delivery.text],
      )
      .then(
        () => {
          if (delayMs > 0) this.mover.nudge(delayMs)
          this.release(delivery)
        },
        (error: unknown) => this.settleFailed(delivery, error),
      )
  }

  deadLetterEntry(delivery: StreamDelivery, record: DeadLetterInstruction): Promise<void> {
    const refused = this.beginSettle(delivery)
    if (refused) return refused
    return this.context.scripts
      .run(
        'tidingsDeadLetter',
        [delivery.stream, this.groupKeys.dlq],
        [
          this.group,
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
        () => this.release(delivery),
        (error: unknown) => this.settleFailed(delivery, error),
      )
  }

  extendEntry(delivery: StreamDelivery): Promise<void> {
    return this.extend([delivery])
  }

  /** Core will not handle it: back to the group at once, not counted as a delivery. */
  releaseEntry(delivery: StreamDelivery): Promise<void> {
    const refused = this.beginSettle(delivery)
    if (refused) return refused
    this.release(delivery)
    return releaseToGroup(
      this.context.client,
      delivery.stream,
      this.group,
      this.subscribeOptions.consumerName,
      [{ id: delivery.entryId, deliveryCount: delivery.deliveryCount }],
      this.subscribeOptions.ackTimeoutMs,
    ).then(
      () => undefined,
      (error: unknown) =>
        this.context.logger.debug(
          { group: this.group, error: errorMessage(error) },
          'could not release an entry; it is redelivered after ackTimeoutMs',
        ),
    )
  }

  /** Undefined when the settlement may go ahead; otherwise what to return instead. */
  private beginSettle(delivery: StreamDelivery): Promise<void> | undefined {
    if (delivery.settled) {
      // The kit's double-settle rule (SettleOnce), kept as a flag on the reused delivery object: the
      // first settlement wins, a second is ignored with a warning, never acked twice.
      this.context.logger.warn(
        { group: this.group },
        'a delivery was settled twice; the second settlement was ignored',
      )
      return RESOLVED
    }
    if (this.closed) return Promise.reject(new TransportClosedError('settle a delivery'))
    delivery.settled = true
    return undefined
  }

  private settleFailed(delivery: StreamDelivery, error: unknown): never {
    if (isNoGroupError(error)) this.groupsMissing = true
    // Not settled on the server: the entry stays pending and is redelivered after ackTimeoutMs.
    this.release(delivery)
    throw error
  }

  /** Frees the slot of a delivery (settled, or its handler promise settled, or its lease was lost). */
  private release(delivery: StreamDelivery): void {
    if (delivery.released) return
    delivery.released = true
    this.held.remove(delivery)
    const wake = this.wake
    if (wake) {
      this.wake = undefined
      wake()
    }
  }

  private async extend(list: readonly StreamDelivery[]): Promise<void> {
    const byStream = new Map<string, string[]>()
    for (const delivery of list) {
      if (delivery.settled || delivery.released) continue
      const ids = byStream.get(delivery.stream) ?? []
      ids.push(delivery.entryId)
      byStream.set(delivery.stream, ids)
    }
    for (const [stream, ids] of byStream) {
      const lost = await extendLeases(
        this.context.scripts,
        stream,
        this.group,
        this.subscribeOptions.consumerName,
        ids,
      )
      if (lost.length > 0) {
        // Taken over by another process (the lease lapsed): the handler here just finishes, and
        // its late settlement finds the entry gone.
        this.context.logger.debug(
          { group: this.group, entries: lost.length },
          'leases lost to another process',
        )
      }
    }
  }

  /**
   * The ephemeral group's heartbeat. Leases are core's to renew (extendLease): every entry read is
   * handed to core at once, and renewing here too would keep a stalled handler's entry for ever.
   */
  private async beat(): Promise<void> {
    try {
      if (!this.subscribeOptions.durable && this.running) await this.heartbeat()
    } catch (error) {
      if (isNoGroupError(error)) this.groupsMissing = true
      else
        this.context.logger.debug({ group: this.group, error: errorMessage(error) }, 'lease extension failed')
    }
  }
}

const RESOLVED: Promise<void> = Promise.resolve()
