import {
  AckPolicy,
  type ConsumerConfig,
  type ConsumerInfo,
  DeliverPolicy,
  DiscardPolicy,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
  type StreamInfo,
} from '@nats-io/jetstream'
import { nanos } from '@nats-io/transport-node'
import { ConfigError, type Logger } from '@tidings/core/transport'
import type { ResolvedOptions } from './options.js'
import type { NamespaceSubjects } from './subjects.js'

/**
 * Declares the two streams of a namespace and each group's consumers, idempotently. What differs
 * from what this version would create is updated when the server allows it, and refused with a
 * ConfigError naming the difference when it does not: never a silent mismatch.
 */
export class Topology {
  constructor(
    private readonly jsm: JetStreamManager,
    private readonly subjects: NamespaceSubjects,
    private readonly options: ResolvedOptions,
    private readonly logger: Logger,
  ) {}

  async declareStreams(): Promise<void> {
    const { options, subjects } = this
    await this.declareStream({
      name: subjects.eventsStream,
      subjects: [subjects.allEvents, subjects.allRetries],
      // Kept until every group's consumer has acknowledged it, as a queue per group would.
      retention: RetentionPolicy.Interest,
      storage: StorageType.File,
      num_replicas: options.replicas,
      max_age: nanos(options.maxAgeMs),
      max_bytes: options.maxBytes,
      duplicate_window: nanos(options.duplicateWindowMs),
      discard: DiscardPolicy.Old,
    })
    await this.declareStream({
      name: subjects.deadLettersStream,
      subjects: [subjects.allDeadLetters],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      num_replicas: options.replicas,
      max_age: nanos(options.deadLetterMaxAgeMs),
      duplicate_window: nanos(Math.min(options.duplicateWindowMs, 120_000)),
      discard: DiscardPolicy.Old,
    })
  }

  private async declareStream(wanted: Partial<StreamConfig> & { name: string }): Promise<void> {
    const existing = await this.streamInfo(wanted.name)
    if (existing === undefined) {
      try {
        await this.jsm.streams.add(wanted)
        return
      } catch (error) {
        const again = await this.streamInfo(wanted.name) // another process created it meanwhile
        if (again === undefined) throw streamError(wanted.name, error)
        return this.reconcileStream(again, wanted)
      }
    }
    return this.reconcileStream(existing, wanted)
  }

  private async reconcileStream(
    existing: StreamInfo,
    wanted: Partial<StreamConfig> & { name: string },
  ): Promise<void> {
    const config = existing.config
    for (const fixed of ['retention', 'storage'] as const) {
      if (config[fixed] !== wanted[fixed]) {
        throw new ConfigError(
          `The NATS stream "${wanted.name}" has ${fixed} "${config[fixed]}", but Tidings needs "${wanted[fixed]}" and the server cannot change it: delete the stream (nats stream rm ${wanted.name}) after draining it, or use another namespace.`,
        )
      }
    }
    const differences = (
      ['subjects', 'num_replicas', 'max_age', 'max_bytes', 'duplicate_window', 'discard'] as const
    ).filter(
      (field) => JSON.stringify(normalised(config[field])) !== JSON.stringify(normalised(wanted[field])),
    )
    if (differences.length === 0) return
    try {
      await this.jsm.streams.update(wanted.name, { ...config, ...wanted })
      this.logger.info(
        { stream: wanted.name, changed: differences },
        'updated the NATS stream to the configured settings',
      )
    } catch (error) {
      throw new ConfigError(
        `The NATS stream "${wanted.name}" differs from the configuration in ${differences.join(', ')} and the server refused to update it (${(error as Error).message}): align the transport's options with the stream, or update the stream by hand.`,
        { cause: error },
      )
    }
  }

  private async streamInfo(name: string): Promise<StreamInfo | undefined> {
    try {
      return await this.jsm.streams.info(name)
    } catch (error) {
      if (isNotFound(error)) return undefined
      throw streamError(name, error)
    }
  }

  /** Declares one consumer; returns its name. */
  async declareConsumer(stream: string, wanted: Partial<ConsumerConfig> & { name: string }): Promise<void> {
    const config: Partial<ConsumerConfig> = {
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.New,
      // Never let the server stop delivering silently: core dead-letters crash loops itself.
      max_deliver: -1,
      ...wanted,
    }
    const existing = await this.consumerInfo(stream, wanted.name)
    if (existing === undefined) {
      try {
        await this.jsm.consumers.add(stream, config)
        return
      } catch (error) {
        const again = await this.consumerInfo(stream, wanted.name)
        if (again === undefined) throw consumerError(wanted.name, stream, error)
        return this.reconcileConsumer(stream, again, config)
      }
    }
    return this.reconcileConsumer(stream, existing, config)
  }

  private async reconcileConsumer(
    stream: string,
    existing: ConsumerInfo,
    wanted: Partial<ConsumerConfig> & { name?: string },
  ): Promise<void> {
    const config = existing.config
    if (config.deliver_subject) {
      throw new ConfigError(
        `The NATS consumer "${wanted.name}" on stream "${stream}" is a push consumer; Tidings pulls. Delete it (nats consumer rm ${stream} ${wanted.name}); a new one starts at new events.`,
      )
    }
    if (config.ack_policy !== wanted.ack_policy) {
      throw new ConfigError(
        `The NATS consumer "${wanted.name}" on stream "${stream}" has ack policy "${config.ack_policy}", Tidings needs "explicit": delete it (nats consumer rm ${stream} ${wanted.name}).`,
      )
    }
    const fields = [
      'filter_subject',
      'filter_subjects',
      'ack_wait',
      'max_ack_pending',
      'max_deliver',
      'inactive_threshold',
    ] as const
    const differences = fields.filter(
      (field) => JSON.stringify(normalised(config[field])) !== JSON.stringify(normalised(wanted[field])),
    )
    if (differences.length === 0) return
    const update: Record<string, unknown> = {}
    for (const field of fields) update[field] = wanted[field]
    try {
      await this.jsm.consumers.update(stream, wanted.name!, update)
      this.logger.info(
        { stream, consumer: wanted.name, changed: differences },
        'updated the NATS consumer to the listener settings',
      )
    } catch (error) {
      throw new ConfigError(
        `The NATS consumer "${wanted.name}" on stream "${stream}" differs from the listener in ${differences.join(', ')} and the server refused to update it (${(error as Error).message}): delete it (nats consumer rm ${stream} ${wanted.name}) to recreate it, which starts it at new events.`,
        { cause: error },
      )
    }
  }

  private async consumerInfo(stream: string, name: string): Promise<ConsumerInfo | undefined> {
    try {
      return await this.jsm.consumers.info(stream, name)
    } catch (error) {
      if (isNotFound(error)) return undefined
      throw consumerError(name, stream, error)
    }
  }

  async deleteConsumer(stream: string, name: string): Promise<void> {
    try {
      await this.jsm.consumers.delete(stream, name)
    } catch (error) {
      if (!isNotFound(error)) throw error
    }
  }
}

/** Empty lists, zero and undefined all mean "not set" to the server. */
function normalised(value: unknown): unknown {
  if (value === undefined || value === null || value === 0 || value === '') return undefined
  if (Array.isArray(value)) return value.length === 0 ? undefined : [...value].sort()
  return value
}

export function isNotFound(error: unknown): boolean {
  return /not found/i.test((error as Error)?.message ?? '')
}

function streamError(name: string, error: unknown): Error {
  const message = (error as Error)?.message ?? String(error)
  if (/subjects overlap/i.test(message)) {
    return new ConfigError(
      `The NATS stream "${name}" cannot be created: another stream already captures its subjects (${message}). Use another namespace, or remove the overlapping stream.`,
      { cause: error },
    )
  }
  if (/jetstream not enabled|no responders/i.test(message)) {
    return new ConfigError(
      `NATS has no JetStream (${message}): start nats-server with -js (or "jetstream {}" in its configuration).`,
      { cause: error },
    )
  }
  return error instanceof Error ? error : new Error(message)
}

function consumerError(name: string, stream: string, error: unknown): Error {
  const message = (error as Error)?.message ?? String(error)
  if (/maximum consumers limit/i.test(message)) {
    return new ConfigError(
      `The NATS stream "${stream}" allows no more consumers, so "${name}" cannot be created: raise its max_consumers.`,
      { cause: error },
    )
  }
  return error instanceof Error ? error : new Error(message)
}
