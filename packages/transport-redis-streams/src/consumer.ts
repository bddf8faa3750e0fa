import {
  atMost,
  compilePatterns,
  type DeliveryHandler,
  type Logger,
  type PatternMatcher,
  type SubscribeOptions,
  type Subscription,
} from '@tidings/core/transport'
import type { Cluster, Redis } from 'ioredis'
import { Acker } from './acker.js'
import { DelayedRetryMover } from './delayed-retries.js'
import { StreamDelivery } from './delivery.js'
import { fieldText, parseReadReply, type StreamEntry } from './entries.js'
import { CLOSE_STEP_MS, errorMessage, isNoGroupError, sleep } from './errors.js'
import { GroupLifecycle } from './group-lifecycle.js'
import { HeldDeliveries } from './held-deliveries.js'
import type { GroupKeys, NamespaceKeys } from './keys.js'
import type { ResolvedOptions } from './options.js'
import { type ClaimedEntry, claimIdle, claimOwnPending } from './reclaimer.js'
import type { Scripts } from './scripts.js'
import { Settlement } from './settlement.js'

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
 * Around the read loop: crash recovery (own pending entries first, then entries idle past
 * ackTimeoutMs, XPENDING IDLE + XCLAIM) and the delayed-retry mover. The group's life on the server
 * is GroupLifecycle's; what core decides about an entry is carried out by Settlement.
 */
export class StreamConsumer implements Subscription {
  readonly group: string
  private readonly groupKeys: GroupKeys
  private readonly streams: readonly [string, string]
  private readonly matches: PatternMatcher
  private readonly acker: Acker
  private readonly mover: DelayedRetryMover
  private readonly lifecycle: GroupLifecycle
  private readonly settlement: Settlement
  /** Entries owned by this process (events and retry stream), all handed to core. */
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
    this.lifecycle = new GroupLifecycle(
      context.client,
      context.scripts,
      context.keys,
      this.groupKeys,
      this.group,
      subscribeOptions.durable,
      context.logger,
    )
    this.settlement = new Settlement({
      client: context.client,
      scripts: context.scripts,
      groupKeys: this.groupKeys,
      group: this.group,
      consumerName: subscribeOptions.consumerName,
      ackTimeoutMs: subscribeOptions.ackTimeoutMs,
      acker: this.acker,
      mover: this.mover,
      logger: context.logger,
      release: (delivery) => this.release(delivery),
      groupsMissing: () => {
        this.groupsMissing = true
      },
      closed: () => this.closed,
    })
  }

  get retryStream(): string {
    return this.groupKeys.retry
  }

  async start(): Promise<void> {
    await this.lifecycle.ensure(false)
    if (!this.subscribeOptions.durable) await this.lifecycle.heartbeat()
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
    if (!this.subscribeOptions.durable) await atMost(this.lifecycle.remove(), CLOSE_STEP_MS)
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
            await this.lifecycle.ensure(true)
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
      const delivery = new StreamDelivery(this.settlement, stream, entry, deliveryCount, fromRetry)
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

  /**
   * The ephemeral group's heartbeat. Leases are core's to renew (extendLease): every entry read is
   * handed to core at once, and renewing here too would keep a stalled handler's entry for ever.
   */
  private async beat(): Promise<void> {
    try {
      if (!this.subscribeOptions.durable && this.running) await this.lifecycle.heartbeat()
    } catch (error) {
      if (isNoGroupError(error)) this.groupsMissing = true
      else
        this.context.logger.debug({ group: this.group, error: errorMessage(error) }, 'lease extension failed')
    }
  }
}
