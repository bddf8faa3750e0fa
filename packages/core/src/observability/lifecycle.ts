import type { Event } from '../envelope/envelope.js'
import type { AttemptFailure } from '../transport/transport.js'

/** Typed lifecycle events a user can subscribe to with `bus.on(name, listener)` (SPEC §8). */
export interface LifecycleEvents {
  published: { readonly event: Event }
  received: { readonly event: Event; readonly group: string; readonly attempt: number }
  handled: {
    readonly event: Event
    readonly group: string
    readonly attempt: number
    readonly durationMs: number
  }
  failed: {
    readonly event: Event
    readonly group: string
    readonly attempt: number
    readonly error: unknown
    /** How long the handler ran before it failed; undefined when an interceptor failed the attempt. */
    readonly durationMs?: number | undefined
  }
  'retry-scheduled': {
    readonly event: Event
    readonly group: string
    readonly attempt: number
    readonly nextAttempt: number
    readonly delayMs: number
  }
  'dead-lettered': {
    /** Undefined when the message did not decode. */
    readonly event: Event | undefined
    readonly id: string
    readonly group: string
    readonly reason: string
    readonly history: readonly AttemptFailure[]
  }
  /** An event id the group already handled (idempotency store) was acknowledged without running the handler. */
  'duplicate-skipped': { readonly event: Event; readonly group: string }
  disconnected: { readonly transport: string; readonly error?: Error }
  reconnected: { readonly transport: string; readonly attempt: number }
  'transport-error': { readonly transport: string; readonly error: Error }
}

export type LifecycleName = keyof LifecycleEvents
export type LifecycleListener<N extends LifecycleName> = (payload: LifecycleEvents[N]) => void

/** Emits only when someone listens, so an unobserved bus pays one map lookup per event. */
export class Lifecycle {
  private readonly listeners = new Map<LifecycleName, Set<(payload: never) => void>>()

  constructor(private readonly onListenerError: (name: LifecycleName, error: unknown) => void) {}

  on<N extends LifecycleName>(name: N, listener: LifecycleListener<N>): () => void {
    let set = this.listeners.get(name)
    if (!set) {
      set = new Set()
      this.listeners.set(name, set)
    }
    set.add(listener as (payload: never) => void)
    return () => set.delete(listener as (payload: never) => void)
  }

  has(name: LifecycleName): boolean {
    return (this.listeners.get(name)?.size ?? 0) > 0
  }

  emit<N extends LifecycleName>(name: N, payload: LifecycleEvents[N]): void {
    const set = this.listeners.get(name)
    if (!set || set.size === 0) return
    for (const listener of set) {
      try {
        ;(listener as LifecycleListener<N>)(payload)
      } catch (error) {
        this.onListenerError(name, error) // an observer must never break delivery
      }
    }
  }
}
