import type { Transport } from '@tidings/core/transport'

/**
 * What the suite proves for a transport, read from the transport's own `capabilities` (one source of
 * truth: an adapter cannot claim in its tests what it does not declare to core). A test whose
 * capability is false is skipped, and every skip is printed with its reason.
 */
export interface ConformanceCapabilities {
  /** G14: events with the same key reach a concurrency-1 listener in publish order. */
  readonly orderingByKey: boolean
  /** G7: a delivery left unsettled by a dead or stalled process goes to another process of the group. */
  readonly crashRecovery: boolean
  /** G6: a group receives events published while all of its processes were stopped. */
  readonly durableGroups: boolean
  /** G6: `durable: false` listeners exist only while their bus runs. */
  readonly ephemeralListeners: boolean
  /** G5: each retry carries the growing history (false: a dead letter records the final failure only). */
  readonly retryCarriesHistory: boolean
  /** Listing dead letters changes nothing stored. */
  readonly exactDeadLetterBrowsing: boolean
  /** The `inspectGroups()` counters the broker tells (the others must be reported undefined). */
  readonly groupCounters: Transport['capabilities']['groupCounters']
}

/** The conformance view of a transport's declaration. */
export function conformanceCapabilities(transport: Transport): ConformanceCapabilities {
  const declared = transport.capabilities
  return {
    orderingByKey: declared.orderingByKey,
    crashRecovery: declared.crashRecovery,
    durableGroups: declared.durableGroups,
    ephemeralListeners: declared.ephemeralGroups,
    retryCarriesHistory: declared.retryCarriesHistory,
    exactDeadLetterBrowsing: declared.deadLetterBrowsing === 'exact',
    groupCounters: declared.groupCounters,
  }
}

export interface ConformanceContext {
  /** Random per test: every broker resource the test touches lives under it. */
  readonly namespace: string
}

export type MakeTransport = (context: ConformanceContext) => Transport

export interface ConformanceHooks {
  /**
   * Put raw bytes on the wire exactly as a foreign publisher would, routed as an event of `type`
   * (G13: an undecodable message must reach the dead-letter queue). Use the raw broker client.
   */
  injectRawMessage(context: ConformanceContext & { readonly type: string }, body: Buffer): Promise<void>
  /** Remove broker resources of a namespace after each test (optional; memory needs none). */
  cleanup?(context: ConformanceContext): Promise<void>
  /**
   * Upper bound of the time between a crashed process and redelivery, beyond `ackTimeoutMs`
   * (default 2000 ms).
   */
  readonly crashRecoverySlackMs?: number
  /**
   * Optional: lets the suite take the broker away (Watermill's restart feature flag). The suite puts
   * a TCP proxy in front of `broker` and asks for transports that connect through it, then cuts and
   * blocks the proxy. A transport with no connection (memory) leaves it out; its outage tests are
   * skipped, named as such.
   */
  readonly outages?: OutageHooks
}

export interface OutageHooks {
  /** Where the broker listens. */
  readonly broker: { readonly host: string; readonly port: number }
  /**
   * A transport for the test's namespace that connects to `via` (the proxy) instead of the broker,
   * reconnecting quickly (back-off capped near 500 ms), with the given publishTimeoutMs, which also
   * bounds its first connection attempt (connectTimeoutMs where the transport has one).
   */
  makeTransport(
    context: ConformanceContext,
    via: { readonly host: string; readonly port: number },
    options: { readonly publishTimeoutMs: number },
  ): Transport
}
