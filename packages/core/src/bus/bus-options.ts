import type { Interceptor } from '../interceptors/interceptor.js'
import type { ListenerDefaults } from '../listener/listen-options.js'
import type { Logger } from '../observability/logger.js'
import type { StandardSchemaV1 } from '../schema/standard-schema.js'
import type { Clock } from '../time/clock.js'
import type { Transport } from '../transport/transport.js'
import type { Bus } from './bus.js'

/**
 * Maps event names to payload types: `createBus<{ 'order.placed': { orderId: string } }>(…)`.
 * An interface or a type literal both work.
 */
export type EventCatalogue = object

/** The catalogue of an untyped bus: any valid event name, any payload. */
export type AnyEvents = Record<string, unknown>

export interface BusOptions<Events extends EventCatalogue = AnyEvents> {
  /** This service's name: the publisher `source` and the first half of every consumer group. */
  readonly service: string
  /** The transport to use; or give `url` (or set TIDINGS_URL) to load one by scheme. */
  readonly transport?: Transport | undefined
  /** memory://, amqp://…, redis://…, nats://…, sqs://<region>?endpoint=… (default: TIDINGS_URL). */
  readonly url?: string | undefined
  /** pino-compatible logger (default: warnings and errors on stderr). */
  readonly logger?: Logger | undefined
  /** Standard Schema validators per event name: payloads are checked on publish and on receive. */
  readonly schemas?: { readonly [Name in keyof Events]?: StandardSchemaV1<Events[Name]> } | undefined
  /** Defaults for every listen() of this bus. */
  readonly defaults?: ListenerDefaults | undefined
  /** How long close() waits for in-flight handlers before giving them back to the broker (default 30 000). */
  readonly drainTimeoutMs?: number | undefined
  /**
   * Largest encoded event (bytes) this bus publishes, the same on every transport, so switching
   * brokers by configuration never starts rejecting publishes. Default 256 KiB (what SQS/SNS take,
   * the smallest of the supported brokers), lowered to the transport's own `maxMessageBytes` when
   * that is smaller. Raise it explicitly when every broker you may run on takes more; a value above
   * the transport's maximum is refused with ConfigError.
   */
  readonly maxEventBytes?: number | undefined
  /** This process's name within its groups (Redis consumer name); default `<hostname>-<pid>-<n>`. */
  readonly processName?: string | undefined
  /**
   * Time for handler deadlines, lease renewal and failure records (default: the system clock). The
   * testkit passes its ManualClock so a test drives time instead of waiting for it.
   */
  readonly clock?: Clock | undefined
  /**
   * Code around every publish and every handling attempt (tracing, metrics, journals, your own);
   * the first is the outermost. See `Interceptor` for the rules; none costs nothing.
   */
  readonly interceptors?: readonly Interceptor[] | undefined
  /**
   * A record of every event and handling attempt, such as `createJournal()` from `@tidings/journal`.
   * The bus attaches it when created and closes it at the end of `close()`.
   */
  readonly journal?: BusJournal | undefined
}

/**
 * What `createBus({ journal })` takes: something that observes the bus (through `bus.on(...)`) from
 * the moment it exists, and flushes what it holds when the bus closes. It must never block handling.
 */
export interface BusJournal {
  attach<Events extends EventCatalogue>(bus: Bus<Events>): void
  close(): Promise<void>
}
