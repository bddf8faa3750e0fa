import { ConfigError } from '../errors/errors.js'
import { describeValue } from '../util/describe-value.js'

const EVENT_NAME = /^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/
const SERVICE_OR_LISTENER_NAME = /^[a-z0-9]+([_-][a-z0-9]+)*$/
const PATTERN_WORD = /^([a-z0-9_-]+|\*|#)$/
export const MAX_EVENT_NAME_LENGTH = 200

export function assertEventName(name: unknown, where = 'event name'): asserts name is string {
  if (typeof name !== 'string' || name.length === 0) {
    throw new ConfigError(
      `The ${where} must be a non-empty string such as "order.placed", got ${describeValue(name)}.`,
    )
  }
  if (name.length > MAX_EVENT_NAME_LENGTH) {
    throw new ConfigError(
      `The ${where} "${name.slice(0, 40)}…" is ${name.length} characters long: keep it to ${MAX_EVENT_NAME_LENGTH}.`,
    )
  }
  if (!EVENT_NAME.test(name)) {
    throw new ConfigError(
      `The ${where} "${name}" is not valid: use dot-separated words of lowercase letters, digits, "_" or "-", such as "order.placed" (wildcards belong in listen() patterns only).`,
    )
  }
}

export function assertPattern(pattern: unknown): asserts pattern is string {
  if (typeof pattern !== 'string' || pattern.length === 0) {
    throw new ConfigError(
      `A listen() pattern must be a non-empty string such as "order.*" or "#", got ${describeValue(pattern)}.`,
    )
  }
  if (pattern.length > MAX_EVENT_NAME_LENGTH) {
    throw new ConfigError(
      `The pattern "${pattern.slice(0, 40)}…" is longer than ${MAX_EVENT_NAME_LENGTH} characters.`,
    )
  }
  for (const word of pattern.split('.')) {
    if (!PATTERN_WORD.test(word)) {
      throw new ConfigError(
        `The pattern "${pattern}" is not valid: each dot-separated word must be lowercase letters, digits, "_" or "-", or exactly "*" (one word) or "#" (zero or more words).`,
      )
    }
  }
}

export function assertServiceName(name: unknown): asserts name is string {
  assertSimpleName(name, 'service name', 'createBus({ service })', '"shipping"')
}

export function assertListenerName(name: unknown): asserts name is string {
  assertSimpleName(name, 'listener name', 'listen(pattern, handler, { name })', '"create-shipment"')
}

function assertSimpleName(
  name: unknown,
  what: string,
  where: string,
  example: string,
): asserts name is string {
  if (typeof name !== 'string' || !SERVICE_OR_LISTENER_NAME.test(name)) {
    throw new ConfigError(
      `The ${what} given to ${where} must be lowercase letters and digits, optionally joined by single "-" or "_", such as ${example}; got ${describeValue(name)}.`,
    )
  }
}

/**
 * A consumer group name, `<service>-<listener>` (an ephemeral group adds `-<random hex>`): the one
 * rule for every transport, so a name core makes is valid on every broker.
 */
export function assertGroupName(group: unknown, where = 'deadLetters(group)'): asserts group is string {
  if (typeof group !== 'string' || group.length > 200 || !SERVICE_OR_LISTENER_NAME.test(group)) {
    throw new ConfigError(
      `${where} needs a consumer group name "<service>-<listener>", such as "shipping-create-shipment"; got ${describeValue(group)}.`,
    )
  }
}
