import { exponential, type ListenerDefaults } from '@tidings/core'

/**
 * Core's default back-off (exponential from 1 s, ×2, capped at 60 s) without its ±20 % jitter: on the
 * test bus the first retry is due after exactly 1000 ms of clock time, so `clock.advance(1000)`
 * always reaches it. (With jitter it is due anywhere from 800 to 1200 ms, and such a test fails
 * about half the time.)
 */
export const jitterFreeDefaultBackoff = exponential({ initialMs: 1000, factor: 2, maxMs: 60_000 })

/**
 * The bus defaults the test bus runs with: the user's, with the jitter-free default back-off unless
 * the user asked for jitter, turned retries off, or gave a back-off of their own (used as given).
 * A listener's own `retry.backoff` is used as given too; other retry options inherit this one.
 */
export function deterministicDefaults(
  defaults: ListenerDefaults | undefined,
  jitter: boolean,
): ListenerDefaults | undefined {
  if (jitter) return defaults
  if (defaults !== undefined && (defaults === null || typeof defaults !== 'object')) return defaults // core says what is wrong
  const retry = defaults?.retry
  if (retry === false || (retry !== undefined && (retry === null || typeof retry !== 'object')))
    return defaults
  if (retry?.backoff !== undefined) return defaults
  return { ...defaults, retry: { ...retry, backoff: jitterFreeDefaultBackoff } }
}
