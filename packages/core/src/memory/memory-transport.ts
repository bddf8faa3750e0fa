import { ConfigError, GroupNotFoundError, TransportClosedError } from '../errors/errors.js'
import { type Logger, silentLogger } from '../observability/logger.js'
import { assertSubscribeOptions } from '../transport/kit/subscribe-options.js'
import type {
  DeliveryHandler,
  GroupStatus,
  OutgoingMessage,
  SubscribeOptions,
  Subscription,
  Transport,
  TransportCapabilities,
  TransportContext,
  TransportDeadLetters,
} from '../transport/transport.js'
import { MemoryBroker, type MemoryConsumer } from './memory-broker.js'

export interface MemoryTransportOptions {
  /** The broker to use; default: the process-wide broker named after `namespace`. */
  readonly broker?: MemoryBroker | undefined
  /** Selects a shared broker when none is given (default "default"). */
  readonly namespace?: string | undefined
  /** Largest encoded event accepted (default 1 MiB, like NATS's default max_payload). */
  readonly maxMessageBytes?: number | undefined
}

export const DEFAULT_MEMORY_MAX_MESSAGE_BYTES = 1024 * 1024

/** `memory://`: the in-process transport with the same guarantees as the broker adapters. */
export function memoryTransport(
  options: MemoryTransportOptions = {},
): Transport & { readonly broker: MemoryBroker } {
  if (options.broker !== undefined && !(options.broker instanceof MemoryBroker)) {
    throw new ConfigError('memoryTransport({ broker }) must be a MemoryBroker (new MemoryBroker()).')
  }
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MEMORY_MAX_MESSAGE_BYTES
  if (!Number.isInteger(maxMessageBytes) || maxMessageBytes < 1) {
    throw new ConfigError(
      `memoryTransport({ maxMessageBytes }) must be a whole number of bytes >= 1, got ${String(maxMessageBytes)}.`,
    )
  }
  return new MemoryTransport(
    options.broker ?? MemoryBroker.named(options.namespace ?? 'default'),
    maxMessageBytes,
  )
}

/**
 * The memory transport can do everything a broker can; it hands core no more than `concurrency`
 * deliveries at once (no read-ahead), and leases lapse on the broker's clock.
 */
const MEMORY_CAPABILITIES: TransportCapabilities = Object.freeze({
  maxDelayMs: Number.POSITIVE_INFINITY,
  historyBytes: Number.POSITIVE_INFINITY,
  retryCarriesHistory: true,
  deadLetterBrowsing: 'exact',
  orderingByKey: true,
  crashRecovery: true,
  durableGroups: true,
  ephemeralGroups: true,
  groupCounters: { inFlight: true, waitingRetries: true, consumers: true },
  readAhead: () => 0,
})

class MemoryTransport implements Transport {
  readonly name = 'memory'
  readonly capabilities = MEMORY_CAPABILITIES
  private readonly consumers = new Set<MemoryConsumer>()
  private closed = false
  private logger: Logger = silentLogger

  constructor(
    readonly broker: MemoryBroker,
    readonly maxMessageBytes: number,
  ) {}

  async connect(context: TransportContext): Promise<void> {
    if (this.closed) throw new TransportClosedError('connect')
    this.logger = context.logger
  }

  publish(message: OutgoingMessage): Promise<void> {
    if (this.closed) return Promise.reject(new TransportClosedError('publish'))
    this.broker.publish(message.type, message.text)
    return RESOLVED
  }

  async subscribe(options: SubscribeOptions, onDelivery: DeliveryHandler): Promise<Subscription> {
    if (this.closed) throw new TransportClosedError('subscribe')
    assertSubscribeOptions(options, this.name)
    const consumer = this.broker.attach(options, onDelivery, this.logger)
    this.consumers.add(consumer)
    return {
      stop: async () => {
        this.broker.pause(consumer)
      },
    }
  }

  deadLetters(groupName: string): TransportDeadLetters {
    const broker = this.broker
    const letters = () => broker.group(groupName)?.deadLetters ?? []
    return {
      list: async ({ limit }) => letters().slice(0, limit),
      count: async () => letters().length,
      replay: async (ids) => {
        const group = broker.group(groupName)
        return group ? broker.replay(group, ids) : 0
      },
      purge: async () => {
        const all = letters()
        const removed = all.length
        all.length = 0
        return removed
      },
    }
  }

  sendToGroup(groupName: string, message: OutgoingMessage): Promise<void> {
    if (this.closed) return Promise.reject(new TransportClosedError('sendToGroup'))
    const group = this.broker.group(groupName)
    if (!group) return Promise.reject(new GroupNotFoundError(groupName, this.name))
    this.broker.sendToGroup(group, message.text)
    return RESOLVED
  }

  async inspectGroups(): Promise<GroupStatus[]> {
    if (this.closed) throw new TransportClosedError('inspectGroups')
    return this.broker.inspect()
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    for (const consumer of this.consumers) this.broker.detach(consumer)
    this.consumers.clear()
  }
}

const RESOLVED = Promise.resolve()
