import {
  type Bus,
  createBus,
  type DeadLetter,
  exponential,
  type Interceptor,
  NonRetryable,
  silentLogger,
} from '@tidings/core'

/** The shop's event catalogue: publish and listen are type-checked against it. */
export interface ShopEvents {
  'order.placed': { orderId: string; amount: number; address: string | null }
  'payment.captured': { orderId: string; amount: number; address: string | null }
  'shipment.created': { orderId: string; trackingId: string }
}

export interface ScenarioResult {
  readonly timeline: string[]
  readonly retries: number
  readonly deadLetters: DeadLetter[]
  readonly shipped: string[]
  /** With `keepRunning`: the shop still listening (replays are handled), until `close()`. */
  readonly running?: { readonly bus: Bus<ShopEvents>; close(): Promise<void> } | undefined
}

/**
 * order placed → payment captured → shipment created. The carrier times out twice for the first
 * order (two retries, then success); the second order has no address, a poison event that fails
 * every attempt and ends in the shipping group's dead-letter queue with its error history.
 */
export async function runShopScenario(options: {
  url: string
  print?: (line: string) => void
  /** Interceptors for every bus of the scenario (tracing, journals). */
  interceptors?: readonly Interceptor[]
  /** Something that observes every bus of the scenario, such as a journal (`journal.attach(bus)`). */
  observe?: (bus: Bus<ShopEvents>) => void
  /** Leave the services listening after the scenario (see `running` in the result). */
  keepRunning?: boolean
}): Promise<ScenarioResult> {
  const url = withDemoNamespace(options.url)
  const started = performance.now()
  const timeline: string[] = []
  const note = (service: string, what: string) => {
    const line = `+${String(Math.round(performance.now() - started)).padStart(5)} ms  ${service.padEnd(9)} ${what}`
    timeline.push(line)
    options.print?.(line)
  }
  const make = (service: string) =>
    createBus<ShopEvents>({
      service,
      url,
      logger: silentLogger,
      drainTimeoutMs: 2000,
      interceptors: options.interceptors ?? [],
    })
  const shop = make('shop')
  const payment = make('payment')
  const shipping = make('shipping')
  const buses: Bus<ShopEvents>[] = [shop, payment, shipping]
  for (const bus of buses) options.observe?.(bus)

  let carrierTimeouts = 0
  const shipped: string[] = []
  let retries = 0

  payment.listen(
    'order.placed',
    async (event, ctx) => {
      note('payment', `captured ${event.data.amount} for ${event.data.orderId}`)
      await ctx.publish('payment.captured', event.data, { key: event.data.orderId })
    },
    { name: 'capture' },
  )
  shipping.listen(
    'payment.captured',
    async (event, ctx) => {
      if (!event.data.address) throw new Error(`order ${event.data.orderId} has no shipping address`)
      if (carrierTimeouts < 2) {
        carrierTimeouts += 1
        throw new Error('carrier API timed out')
      }
      if (event.data.amount <= 0) throw new NonRetryable(new RangeError('amount must be positive'))
      const trackingId = `TRK-${event.data.orderId.slice(2)}`
      shipped.push(event.data.orderId)
      note('shipping', `created shipment ${trackingId} on attempt ${ctx.attempt}`)
      await ctx.publish(
        'shipment.created',
        { orderId: event.data.orderId, trackingId },
        { key: event.data.orderId },
      )
    },
    {
      name: 'create-shipment',
      concurrency: 1,
      retry: { maxAttempts: 3, backoff: exponential({ initialMs: 150, factor: 2, maxMs: 1000 }) },
    },
  )
  shipping.on('failed', ({ event, attempt, error }) =>
    note(
      'shipping',
      `attempt ${attempt} for ${(event.data as { orderId: string }).orderId} failed: ${(error as Error).message}`,
    ),
  )
  shipping.on('retry-scheduled', ({ delayMs, nextAttempt }) => {
    retries += 1
    note('shipping', `  → retry scheduled: attempt ${nextAttempt} in ${delayMs} ms`)
  })
  shipping.on('dead-lettered', ({ event, reason }) =>
    note(
      'shipping',
      `  → dead-lettered ${(event?.data as { orderId?: string } | undefined)?.orderId ?? 'an undecodable message'}: ${reason}`,
    ),
  )

  try {
    await Promise.all(buses.map((bus) => bus.start()))
    await shipping.deadLetters('shipping-create-shipment').purge()
    for (const order of [
      { orderId: 'o-1001', amount: 4200, address: '1 Harbour Street' },
      { orderId: 'o-1002', amount: 990, address: null },
    ]) {
      note('shop', `publishing order.placed ${order.orderId}`)
      await shop.publish('order.placed', order, { key: order.orderId })
    }
    const dlq = shipping.deadLetters('shipping-create-shipment')
    const deadline = Date.now() + 8000
    while ((shipped.length < 1 || (await dlq.count()) < 1) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 25))
    }
    const deadLetters = await dlq.list({ limit: 10 })
    const close = async () => {
      await Promise.all(buses.map((bus) => bus.close()))
    }
    if (options.keepRunning)
      return { timeline, retries, deadLetters, shipped, running: { bus: shipping, close } }
    await close()
    return { timeline, retries, deadLetters, shipped }
  } catch (error) {
    await Promise.all(buses.map((bus) => bus.close()))
    throw error
  }
}

/**
 * On a broker the demo lives in its own namespace ("tidingsdemo" unless the URL names one), so it
 * never touches an application's groups, and repeated runs reuse the same queues or streams.
 */
function withDemoNamespace(url: string): string {
  if (url.startsWith('memory:')) return url
  const parsed = new URL(url)
  if (!parsed.searchParams.has('namespace')) parsed.searchParams.set('namespace', 'tidingsdemo')
  return parsed.toString()
}
