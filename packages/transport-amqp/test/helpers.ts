import {
  type AttemptFailure,
  type Delivery,
  EncodedMessage,
  encodeEnvelope,
  type Logger,
  type SubscribeOptions,
  type TransportContext,
  type TransportNotice,
} from '@tidings/core'
import amqp from 'amqplib'
import { type AmqpTransport, type AmqpTransportOptions, amqpTransport } from '../src/index.js'

export const AMQP_URL = process.env.TIDINGS_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672'

export function randomNamespace(): string {
  return `t${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`
}

const quietLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: (object, message) => console.error('[amqp test]', message, object),
}

export function testContext(): TransportContext & { readonly notices: TransportNotice[] } {
  const notices: TransportNotice[] = []
  return { logger: quietLogger, notify: (notice) => notices.push(notice), notices }
}

/** Creates transports and removes everything they declared after the test. */
export class TransportPool {
  readonly namespace = randomNamespace()
  private readonly transports: AmqpTransport[] = []
  readonly extraQueues = new Set<string>()

  async open(
    options: Partial<AmqpTransportOptions> = {},
    context = testContext(),
  ): Promise<AmqpTransport & { context: ReturnType<typeof testContext> }> {
    const transport = amqpTransport({ url: AMQP_URL, namespace: this.namespace, ...options }) as AmqpTransport
    this.transports.push(transport)
    await transport.connect(context)
    return Object.assign(transport, { context })
  }

  async cleanup(): Promise<void> {
    await Promise.all(this.transports.map((transport) => transport.close().catch(() => {})))
    const queues = new Set(this.extraQueues)
    const exchanges = new Set<string>()
    for (const transport of this.transports) {
      const resources = transport.declaredResources()
      for (const queue of resources.queues) queues.add(queue)
      for (const exchange of resources.exchanges) exchanges.add(exchange)
    }
    await deleteResources([...queues], [...exchanges])
  }
}

export async function deleteResources(
  queues: readonly string[],
  exchanges: readonly string[],
): Promise<void> {
  const connection = await amqp.connect(AMQP_URL)
  try {
    const channel = await connection.createChannel()
    for (const queue of queues) await channel.deleteQueue(queue)
    for (const exchange of exchanges) await channel.deleteExchange(exchange)
    await channel.close()
  } finally {
    await connection.close()
  }
}

export function event(type: string, data: unknown = { n: 1 }): EncodedMessage {
  const { event, text } = encodeEnvelope({ type, data, source: '/test' })
  return new EncodedMessage(event.id, type, undefined, text)
}

export function subscription(
  group: string,
  patterns: string[],
  extra: Partial<SubscribeOptions> = {},
): SubscribeOptions {
  return {
    group,
    patterns,
    durable: true,
    concurrency: 10,
    ackTimeoutMs: 30_000,
    consumerName: 'test',
    maxAttempts: 5,
    ...extra,
  }
}

export interface Received {
  readonly delivery: Delivery
  readonly id: string
  readonly at: number
}

/** Records deliveries; `next(predicate)` waits for a matching one. */
export class Inbox {
  readonly received: Received[] = []
  private readonly waiters: {
    predicate: (received: Received) => boolean
    resolve: (received: Received) => void
  }[] = []

  constructor(private readonly onReceive?: (received: Received) => Promise<void> | void) {}

  private readonly taken = new Set<Received>()

  readonly handler = async (delivery: Delivery): Promise<void> => {
    const received: Received = { delivery, id: idOf(delivery.body), at: Date.now() }
    this.received.push(received)
    for (const waiter of [...this.waiters]) {
      if (!this.taken.has(received) && waiter.predicate(received)) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1)
        this.taken.add(received)
        waiter.resolve(received)
      }
    }
    await this.onReceive?.(received)
  }

  /** The first delivery matching `predicate` not returned by next() before, waiting for it if needed. */
  next(predicate: (received: Received) => boolean = () => true, timeoutMs = 10_000): Promise<Received> {
    const already = this.received.find((received) => !this.taken.has(received) && predicate(received))
    if (already) {
      this.taken.add(already)
      return Promise.resolve(already)
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('Inbox.next timed out')), timeoutMs)
      this.waiters.push({
        predicate,
        resolve: (received) => {
          clearTimeout(timer)
          resolve(received)
        },
      })
    })
  }

  async count(n: number, timeoutMs = 10_000): Promise<void> {
    const started = Date.now()
    while (this.received.length < n) {
      if (Date.now() - started > timeoutMs)
        throw new Error(`Inbox: ${this.received.length} of ${n} after ${timeoutMs} ms`)
      await sleep(5)
    }
  }
}

export function idOf(body: Buffer): string {
  try {
    return (JSON.parse(body.toString('utf8')) as { id: string }).id
  } catch {
    return body.toString('utf8')
  }
}

export function failure(attempt: number, message = 'boom', retryDelayMs?: number): AttemptFailure {
  return {
    attempt,
    at: new Date().toISOString(),
    error: { name: 'Error', message, stack: 'Error: boom\n    at handler (test.ts:1:1)' },
    ...(retryDelayMs === undefined ? {} : { retryDelayMs }),
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
