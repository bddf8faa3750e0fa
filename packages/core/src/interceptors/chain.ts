import { ConfigError } from '../errors/errors.js'
import type { Interceptor } from './interceptor.js'

type Step<Context, Result> = (context: Context, next: () => Promise<Result>) => Promise<Result>

/** The outcome of a chain run: what the innermost step returned, if it ran, and the chain's error. */
export interface ChainRun<Result> {
  /** Set when the innermost step (the real publish, the real attempt) was called. */
  readonly inner: Promise<Result> | undefined
  readonly result: Promise<Result>
}

/**
 * Composes interceptor steps around an innermost step, first interceptor outermost. Each `next`
 * runs the rest of the chain at most once; the caller learns whether the innermost step ran, so it
 * can keep its own guarantees (settle exactly once, never report an unsent event as failed).
 */
export function composeChain<Context, Result>(
  steps: readonly Step<Context, Result>[],
): (context: Context, innermost: () => Promise<Result>) => ChainRun<Result> {
  return (context, innermost) => {
    let inner: Promise<Result> | undefined
    const runInner = (): Promise<Result> => {
      inner ??= innermost()
      return inner
    }
    const at = (index: number): Promise<Result> => {
      if (index === steps.length) return runInner()
      let next: Promise<Result> | undefined
      try {
        return steps[index]!(context, () => {
          next ??= at(index + 1)
          return next
        })
      } catch (error) {
        return Promise.reject(error)
      }
    }
    const result = at(0)
    return {
      get inner() {
        return inner
      },
      result,
    }
  }
}

/** Checks `createBus({ interceptors })`. */
export function assertInterceptors(interceptors: unknown): readonly Interceptor[] {
  if (interceptors === undefined) return []
  if (!Array.isArray(interceptors)) {
    throw new ConfigError('createBus({ interceptors }) must be an array such as [tracing(), audit].')
  }
  interceptors.forEach((interceptor: unknown, index) => {
    const candidate = interceptor as Partial<Interceptor> | null
    if (
      candidate === null ||
      typeof candidate !== 'object' ||
      (candidate.publish !== undefined && typeof candidate.publish !== 'function') ||
      (candidate.handle !== undefined && typeof candidate.handle !== 'function') ||
      (candidate.publish === undefined && candidate.handle === undefined)
    ) {
      throw new ConfigError(
        `createBus({ interceptors })[${index}] must be an object with a publish(publish, next) and/or handle(attempt, next) function.`,
      )
    }
  })
  return interceptors as readonly Interceptor[]
}
