import {
  type Bus,
  type BusOptions,
  createBus,
  type Event,
  type HandlerContext,
  silentLogger,
} from '@tidings/core'
import { afterEach, beforeEach, expect } from 'vitest'
import { newNamespace } from '../namespace.js'
import { waitUntil } from '../wait.js'
import type {
  ConformanceCapabilities,
  ConformanceContext,
  ConformanceHooks,
  MakeTransport,
} from './capabilities.js'
import { type SpyFaults, spyOnTransport } from './transport-spy.js'

export interface Received {
  readonly event: Event
  readonly attempt: number
  readonly redelivered: boolean
  readonly at: number
  readonly bus: string
}

/** What every conformance test gets: fresh namespace, buses that close themselves, and recorders. */
export interface ConformanceHarness {
  readonly name: string
  readonly capabilities: ConformanceCapabilities
  readonly hooks: ConformanceHooks
  readonly context: ConformanceContext
  /**
   * A bus on a new transport in this test's namespace; closed after the test. Its transport is spied
   * on (G9 at the adapter, checked after every test); `faults` make it misbehave on purpose.
   */
  bus(options?: Partial<Omit<BusOptions, 'transport' | 'url'>>, faults?: SpyFaults): Bus
  injectRaw(type: string, body: Buffer | string): Promise<void>
  /** A handler that records every call into `log`, then runs `behaviour` (default: succeed). */
  recorder(
    log: Received[],
    busName?: string,
    behaviour?: (event: Event, context: HandlerContext) => unknown,
  ): (event: Event, context: HandlerContext) => Promise<void>
  waitForCount(log: readonly unknown[], count: number, what: string, timeoutMs?: number): Promise<void>
}

export function useConformanceHarness(
  name: string,
  makeTransport: MakeTransport,
  capabilities: ConformanceCapabilities,
  hooks: ConformanceHooks,
): ConformanceHarness {
  let context: ConformanceContext = { namespace: newNamespace() }
  let buses: Bus[] = []
  let violations: string[] = []

  beforeEach(() => {
    context = { namespace: newNamespace() }
    buses = []
    violations = []
  })

  afterEach(async () => {
    await Promise.allSettled(buses.map((bus) => bus.close()))
    await hooks.cleanup?.(context)
    expect(violations, 'G9: the transport handed over more unsettled deliveries than allowed').toEqual([])
  })

  return {
    name,
    capabilities,
    hooks,
    get context() {
      return context
    },
    bus(options = {}, faults = {}) {
      const bus = createBus({
        service: 'conformance',
        logger: silentLogger,
        drainTimeoutMs: 2000,
        ...options,
        transport: spyOnTransport(makeTransport(context), violations, faults),
      })
      buses.push(bus)
      return bus
    },
    injectRaw(type, body) {
      return hooks.injectRawMessage({ ...context, type }, typeof body === 'string' ? Buffer.from(body) : body)
    },
    recorder(log, busName = 'bus', behaviour) {
      return async (event, handlerContext) => {
        log.push({
          event,
          attempt: handlerContext.attempt,
          redelivered: handlerContext.redelivered,
          at: performance.now(),
          bus: busName,
        })
        await behaviour?.(event, handlerContext)
      }
    },
    waitForCount(log, count, what, timeoutMs = 10_000) {
      return waitUntil(() => log.length >= count, {
        timeoutMs,
        what: `${count} ${what}`,
        seen: () => `Saw ${log.length}.`,
      }).then(() => undefined)
    },
  }
}
