import { randomBytes } from 'node:crypto'
import {
  type Delivery,
  decodeEnvelope,
  EncodedMessage,
  type Event,
  encodeEnvelope,
  type SubscribeOptions,
  type Transport,
} from '@tidings/core'

/**
 * Helpers for an adapter's own tests, below the bus: an event encoded exactly as core sends it, the
 * options core passes to subscribe(), and a recorder of what a subscription hands over.
 */

/** An event of `type` encoded as core publishes it (CloudEvents JSON, a fresh UUIDv7 unless `id`). */
export function encodedMessage(type: string, data: unknown = {}, id?: string): EncodedMessage {
  const { event, text } = encodeEnvelope({ type, data, source: '/test', ...(id ? { id } : {}) })
  return new EncodedMessage(event.id, type, undefined, text)
}

/** What core passes to `subscribe()` for a listener, with short test timings unless overridden. */
export function subscribeOptions(
  group: string,
  patterns: string[],
  overrides: Partial<SubscribeOptions> = {},
): SubscribeOptions {
  return {
    group,
    patterns,
    durable: true,
    concurrency: 8,
    ackTimeoutMs: 1000,
    consumerName: `proc-${randomBytes(3).toString('hex')}`,
    maxAttempts: 5,
    ...overrides,
  }
}

export interface RecordedDelivery {
  readonly event: Event
  readonly delivery: Delivery
  /** performance.now() when it arrived. */
  readonly at: number
}

/** Subscribes and records every delivery, decoded; `behaviour` settles it (default: ack). */
export async function recordDeliveries(
  transport: Transport,
  options: SubscribeOptions,
  behaviour: (delivery: Delivery, event: Event) => Promise<void> = (delivery) => delivery.ack(),
): Promise<{ readonly log: RecordedDelivery[]; stop(): Promise<void> }> {
  const log: RecordedDelivery[] = []
  const subscription = await transport.subscribe(options, async (delivery) => {
    const event = decodeEnvelope(delivery.body)
    log.push({ event, delivery, at: performance.now() })
    await behaviour(delivery, event)
  })
  return { log, stop: () => subscription.stop() }
}
