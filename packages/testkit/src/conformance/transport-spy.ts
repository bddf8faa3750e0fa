import type { Delivery, DeliveryHandler, Transport } from '@tidings/core/transport'

/** What a spied transport lets a test change and see. */
export interface SpyFaults {
  /**
   * Hide `extendLease` from core, so no lease of this bus is ever renewed: to the broker the process
   * looks stalled (G7), while it stays alive and its handlers keep running.
   */
  readonly suppressLeaseRenewal?: boolean
}

/**
 * Wraps a transport between core and the adapter and checks G9 where it matters, at the adapter:
 * every subscription may have at most `concurrency + capabilities.readAhead(concurrency)` deliveries
 * handed to core and not yet settled. Core's own gate would hide an adapter that over-delivers; this
 * does not. Every other property passes through untouched.
 */
export function spyOnTransport(
  transport: Transport,
  violations: string[],
  faults: SpyFaults = {},
): Transport {
  const subscribe: Transport['subscribe'] = (options, onDelivery) => {
    const limit = options.concurrency + transport.capabilities.readAhead(options.concurrency)
    let unsettled = 0
    const counted: DeliveryHandler = (delivery) => {
      unsettled += 1
      if (unsettled > limit) {
        violations.push(
          `${transport.name} handed group "${options.group}" ${unsettled} unsettled deliveries; concurrency ${options.concurrency} + readAhead ${limit - options.concurrency} allows ${limit}`,
        )
      }
      let open = true
      const settled = (): void => {
        if (!open) return
        open = false
        unsettled -= 1
      }
      return onDelivery(observe(delivery, settled, faults))
    }
    return transport.subscribe(options, counted)
  }
  return new Proxy(transport, {
    get(target, property) {
      if (property === 'subscribe') return subscribe
      const value: unknown = Reflect.get(target, property, target)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}

function observe(delivery: Delivery, settled: () => void, faults: SpyFaults): Delivery {
  const settling =
    <A extends unknown[]>(action: (...args: A) => Promise<void>) =>
    (...args: A): Promise<void> => {
      settled()
      return action(...args)
    }
  const observed: Delivery = {
    get body() {
      return delivery.body
    },
    get text() {
      return delivery.text
    },
    get attempt() {
      return delivery.attempt
    },
    get history() {
      return delivery.history
    },
    get redelivered() {
      return delivery.redelivered
    },
    ack: settling(() => delivery.ack()),
    retry: settling((instruction) => delivery.retry(instruction)),
    deadLetter: settling((record) => delivery.deadLetter(record)),
    release: settling(() => delivery.release()),
  }
  if (delivery.extendLease && !faults.suppressLeaseRenewal) {
    const extend = delivery.extendLease.bind(delivery)
    return Object.assign(observed, { extendLease: () => extend() })
  }
  return observed
}
