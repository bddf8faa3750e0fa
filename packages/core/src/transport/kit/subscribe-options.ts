import { ConfigError } from '../../errors/errors.js'
import { assertGroupName, assertPattern } from '../../patterns/names.js'
import { describeValue } from '../../util/describe-value.js'
import type { SubscribeOptions } from '../transport.js'

/**
 * Checks what core hands to `subscribe()`, with the same rules on every transport. Core never sends
 * anything else; this guards adapters used directly (tools, tests) and fails with what to fix.
 */
export function assertSubscribeOptions(options: SubscribeOptions, transportName: string): void {
  const where = `${transportName} subscribe()`
  if (options === null || typeof options !== 'object')
    throw new ConfigError(`${where} needs an options object, got ${describeValue(options)}.`)
  assertGroupName(options.group, where)
  if (!Array.isArray(options.patterns) || options.patterns.length === 0) {
    throw new ConfigError(
      `${where} for group "${options.group}" needs at least one pattern, such as "order.*".`,
    )
  }
  for (const pattern of options.patterns) assertPattern(pattern)
  wholeNumber(options.concurrency, 'concurrency', 1, 65_535, where)
  wholeNumber(options.ackTimeoutMs, 'ackTimeoutMs', 10, 2 ** 31 - 1, where)
  if (
    !(options.maxAttempts === Number.POSITIVE_INFINITY) &&
    !(Number.isInteger(options.maxAttempts) && options.maxAttempts >= 1)
  ) {
    throw new ConfigError(
      `${where}: maxAttempts must be a whole number >= 1 or Infinity, got ${describeValue(options.maxAttempts)}.`,
    )
  }
  if (typeof options.durable !== 'boolean')
    throw new ConfigError(`${where}: durable must be true or false, got ${describeValue(options.durable)}.`)
  if (
    typeof options.consumerName !== 'string' ||
    options.consumerName.length === 0 ||
    options.consumerName.length > 200
  ) {
    throw new ConfigError(
      `${where}: consumerName must be a non-empty string of at most 200 characters (the process name).`,
    )
  }
}

function wholeNumber(value: unknown, name: string, min: number, max: number, where: string): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(
      `${where}: ${name} must be a whole number from ${min} to ${max}, got ${describeValue(value)}.`,
    )
  }
}
