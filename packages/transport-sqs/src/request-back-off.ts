import type { BackOffOptions } from '@tidings/core/transport'

/**
 * How requests that failed through an outage or throttling are tried again (publish, connect,
 * receive, delete): short first pauses, since the SDK has already retried each request itself.
 */
export const REQUEST_BACK_OFF: BackOffOptions = Object.freeze({
  initialDelayMs: 100,
  maxDelayMs: 2000,
  factor: 2,
  jitter: 0.2,
})
