import type { Consumer, ConsumerMessages, JetStreamClient, JsMsg } from '@nats-io/jetstream'
import { backOffDelay, Credits, type Logger, Sleeper } from '@tidings/core/transport'

/** Pull requests one lane keeps open at once: enough to overlap a batch in flight with one being handled. */
const MAX_FETCHES_IN_FLIGHT = 4

export interface PullerOptions {
  readonly stream: string
  readonly consumer: string
  readonly capacity: number
  /** Pull again once this many credits are free (batches, not one request per message). */
  readonly batchThreshold: number
  readonly expiresMs: number
  readonly group: string
  readonly logger: Logger
  /** Called when the consumer is gone (deleted by hand, or by the server): declare it again. */
  readonly recreate: () => Promise<void>
}

/**
 * One pull loop over one consumer: requests as many messages as there are free credits (a few pull
 * requests may be open at once), and hands each to `onMessage`, which returns whether the message is now held (to be
 * settled later through `settled()`) or was dealt with at once.
 */
export class Puller {
  readonly credits: Credits
  private stopped = false
  private failures = 0
  private readonly current = new Set<ConsumerMessages>()
  private readonly fetching = new Set<Promise<void>>()
  private readonly sleeper = new Sleeper()
  private loop: Promise<void> | undefined
  private consumer: Consumer | undefined
  /** Requests to the JetStream API under way, each abandoned at stop(). */
  private readonly abandonAtStop = new Set<() => void>()

  constructor(
    private readonly js: JetStreamClient,
    private readonly options: PullerOptions,
    private readonly onMessage: (message: JsMsg) => boolean,
  ) {
    this.credits = new Credits(options.capacity)
  }

  start(): void {
    this.loop = this.run()
  }

  settled(): void {
    this.credits.settled()
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      await this.credits.waitFor(this.options.batchThreshold, () => this.stopped)
      if (this.stopped) break
      if (this.fetching.size >= MAX_FETCHES_IN_FLIGHT) {
        await Promise.race(this.fetching)
        continue
      }
      const batch = this.credits.free
      this.credits.request(batch)
      // Not awaited: the next pull goes out as soon as enough credits free up, while this one is
      // still being filled, so messages are on their way while the handlers work (as consume() does).
      const fetching = this.fetch(batch).finally(() => this.fetching.delete(fetching))
      this.fetching.add(fetching)
      if (this.failures > 0) await fetching
    }
    await Promise.allSettled(this.fetching)
  }

  private async fetch(batch: number): Promise<void> {
    let arrived = 0
    let messages: ConsumerMessages | undefined
    try {
      if (this.consumer === undefined) {
        const consumer = await this.unlessStopped(
          this.js.consumers.get(this.options.stream, this.options.consumer),
        )
        if (consumer === undefined) return
        this.consumer = consumer
      }
      messages = await this.consumer.fetch({ max_messages: batch, expires: this.options.expiresMs })
      this.current.add(messages)
      if (this.stopped) messages.stop()
      for await (const message of messages) {
        arrived += 1
        this.credits.arrived(this.onMessage(message))
      }
      this.failures = 0
    } catch (error) {
      if (this.stopped) return
      this.failures += 1
      this.consumer = undefined
      const text = (error as Error)?.message ?? String(error)
      // Quiet through a short outage, then a warning now and again rather than one per attempt.
      this.options.logger[this.failures === 4 || this.failures % 50 === 0 ? 'warn' : 'debug'](
        { group: this.options.group, consumer: this.options.consumer, error: text },
        'pulling from NATS failed; pulling again',
      )
      if (/consumer not found|consumer deleted|stream not found/i.test(text)) {
        await this.unlessStopped(this.options.recreate().catch(() => {}))
      }
      await this.sleeper.sleep(
        backOffDelay(this.failures, { initialDelayMs: 50, maxDelayMs: 1000, factor: 2, jitter: 0.2 }),
      )
    } finally {
      if (messages) this.current.delete(messages)
      this.credits.unfilled(batch - arrived)
    }
  }

  /**
   * A request to the JetStream API is answered within js's timeout (5 s), and not at all while the
   * connection is down: stop() (and so close()) must not wait for one that was sent just before.
   */
  private unlessStopped<T>(request: Promise<T>): Promise<T | undefined> {
    return new Promise<T | undefined>((resolve, reject) => {
      const abandon = (): void => resolve(undefined)
      this.abandonAtStop.add(abandon)
      request.then(resolve, reject).finally(() => this.abandonAtStop.delete(abandon))
    })
  }

  /** Stops pulling; what was requested and not yet arrived goes back to the server's queue. */
  async stop(): Promise<void> {
    this.stopped = true
    for (const abandon of this.abandonAtStop) abandon()
    this.sleeper.wakeAll()
    this.credits.wake()
    for (const messages of this.current) messages.stop()
    await this.loop
  }
}
