import type { JetStreamClient, JsMsg } from '@nats-io/jetstream'
import { nanos } from '@nats-io/transport-node'
import {
  atMost,
  type DeliveryHandler,
  type Logger,
  type SubscribeOptions,
  type Subscription,
} from '@tidings/core/transport'
import { AckBatcher } from './ack-batcher.js'
import { NatsDelivery } from './delivery.js'
import { serverFilter } from './filters.js'
import { HEADER, readHistory, readInteger } from './headers.js'
import type { ResolvedOptions } from './options.js'
import type { JetStreamPublisher } from './publisher.js'
import { Puller } from './puller.js'
import type { NamespaceSubjects } from './subjects.js'
import type { Topology } from './topology.js'

export interface GroupConsumerDeps {
  readonly js: JetStreamClient
  readonly topology: Topology
  readonly subjects: NamespaceSubjects
  readonly publisher: JetStreamPublisher
  readonly options: ResolvedOptions
  readonly logger: Logger
  /** The server takes `filter_subjects` (2.10 and later). */
  readonly multipleFilters: boolean
}

/**
 * How long close() waits for each thing it asks of the server (draining the connection, removing an
 * ephemeral group): close() stays bounded while NATS is unreachable (G10).
 */
export const CLOSE_STEP_MS = 1000

/** A retry copy that arrives this early is handed over anyway: NATS delays are not exact to the ms. */
const EARLY_TOLERANCE_MS = 10

/**
 * One consumer group in this process, in two lanes with their own credits: the group's events (a
 * durable pull consumer filtered to its patterns) and its retries (a second consumer on
 * `<ns>.retry.<group>`). A retry copy that is not due yet goes back with a nak delayed until it is,
 * so a waiting retry never blocks the messages behind it (G4).
 */
export class GroupConsumer implements Subscription {
  private readonly events: Puller
  private readonly retries: Puller
  private stopped: Promise<void> | undefined
  private readonly acks = new AckBatcher((error, count) =>
    this.deps.logger.warn(
      { group: this.subscription.group, messages: count, error: (error as Error)?.message },
      'acks could not be sent (connection closed?): those messages are redelivered after ackTimeoutMs',
    ),
  )
  /** Limit of the retry lane; the event lane gets `concurrency + readAhead`. */
  static retryLaneCapacity(concurrency: number): number {
    return Math.max(1, Math.ceil(concurrency / 4))
  }

  constructor(
    private readonly deps: GroupConsumerDeps,
    private readonly subscription: SubscribeOptions,
    private readonly onDelivery: DeliveryHandler,
  ) {
    const { concurrency, group } = subscription
    const readAhead = deps.options.readAhead ?? concurrency
    const common = {
      stream: deps.subjects.eventsStream,
      expiresMs: deps.options.pullExpiresMs,
      group,
      logger: deps.logger,
    }
    const eventCapacity = concurrency + readAhead
    this.events = new Puller(
      deps.js,
      {
        ...common,
        consumer: group,
        capacity: eventCapacity,
        batchThreshold: Math.max(1, Math.floor(eventCapacity / 2)),
        recreate: () => this.declareEventConsumer(),
      },
      (message) => this.fromEvents(message),
    )
    this.retries = new Puller(
      deps.js,
      {
        ...common,
        consumer: deps.subjects.retryConsumer(group),
        capacity: GroupConsumer.retryLaneCapacity(concurrency),
        batchThreshold: 1,
        recreate: () => this.declareRetryConsumer(),
      },
      (message) => this.fromRetries(message),
    )
  }

  async start(): Promise<void> {
    await this.declareEventConsumer()
    await this.declareRetryConsumer()
    this.events.start()
    this.retries.start()
  }

  private consumerSettings(): Record<string, unknown> {
    const { subscription, deps } = this
    return {
      ack_wait: nanos(subscription.ackTimeoutMs),
      max_ack_pending: deps.options.maxAckPending,
      ...(subscription.durable ? {} : { inactive_threshold: nanos(deps.options.ephemeralInactiveMs) }),
    }
  }

  private declareEventConsumer(): Promise<void> {
    const { subscription, deps } = this
    const filter = serverFilter(
      deps.subjects.allEvents.slice(0, -2),
      subscription.patterns,
      deps.multipleFilters,
    )
    return deps.topology.declareConsumer(deps.subjects.eventsStream, {
      name: subscription.group,
      ...(subscription.durable ? { durable_name: subscription.group } : {}),
      ...(filter.subjects.length === 1
        ? { filter_subject: filter.subjects[0] }
        : { filter_subjects: [...filter.subjects] }),
      ...this.consumerSettings(),
    })
  }

  private declareRetryConsumer(): Promise<void> {
    const { subscription, deps } = this
    const name = deps.subjects.retryConsumer(subscription.group)
    return deps.topology.declareConsumer(deps.subjects.eventsStream, {
      name,
      ...(subscription.durable ? { durable_name: name } : {}),
      filter_subject: deps.subjects.retry(subscription.group),
      ...this.consumerSettings(),
    })
  }

  /** An event as published: its attempt is the server's delivery count (crash redeliveries count). */
  private fromEvents(message: JsMsg): boolean {
    const count = message.info.deliveryCount
    this.hand(message, this.events, count, [], count > 1)
    return true
  }

  private fromRetries(message: JsMsg): boolean {
    const headers = message.headers
    const dueAt = readInteger(headers?.get(HEADER.dueAt), 0)
    const wait = dueAt - Date.now()
    if (wait > EARLY_TOLERANCE_MS) {
      try {
        message.nak(wait)
      } catch {
        // Connection gone: the copy comes back after ack_wait and is checked again.
      }
      return false
    }
    // One delivery of a delayed copy was its wait (the nak above); any further ones were crashes.
    const waits = headers?.get(HEADER.delayed) === '1' ? 1 : 0
    const crashes = Math.max(0, message.info.deliveryCount - 1 - waits)
    const attempt = readInteger(headers?.get(HEADER.attempt), 1) + crashes
    this.hand(message, this.retries, attempt, readHistory(headers?.get(HEADER.history)), crashes > 0)
    return true
  }

  private hand(
    message: JsMsg,
    lane: Puller,
    attempt: number,
    history: NatsDelivery['history'],
    redelivered: boolean,
  ): void {
    const { deps, subscription } = this
    const delivery = new NatsDelivery(message, attempt, history, redelivered, {
      group: subscription.group,
      subjects: deps.subjects,
      publisher: deps.publisher,
      logger: deps.logger,
      acks: this.acks,
    })
    this.onDelivery(delivery).then(
      () => lane.settled(),
      () => lane.settled(),
    )
  }

  /** Stops pulling. Unsettled deliveries can still be settled; an ephemeral group is removed. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      await Promise.all([this.events.stop(), this.retries.stop()])
    })()
    return this.stopped
  }

  /**
   * Close: stop, and remove the consumers of an ephemeral group. While the server is unreachable
   * that removal would wait for js's timeout (5 s); close() waits at most CLOSE_STEP_MS, and the
   * server removes the group after ephemeralInactiveMs.
   */
  async close(): Promise<void> {
    await this.stop()
    if (this.subscription.durable) return
    const { deps, subscription } = this
    const removal = Promise.allSettled([
      deps.topology.deleteConsumer(deps.subjects.eventsStream, subscription.group),
      deps.topology.deleteConsumer(
        deps.subjects.eventsStream,
        deps.subjects.retryConsumer(subscription.group),
      ),
    ])
    if (!(await atMost(removal, CLOSE_STEP_MS))) {
      deps.logger.debug(
        { group: subscription.group, ephemeralInactiveMs: deps.options.ephemeralInactiveMs },
        'the server did not confirm removing the ephemeral group in time; it removes the group once inactive',
      )
    }
  }
}
