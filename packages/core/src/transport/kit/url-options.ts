import { ConfigError } from '../../errors/errors.js'
import { redactUrl } from '../resolve-url.js'

/** How one query parameter of a transport URL becomes an option. */
export type UrlParameter =
  | { readonly kind: 'integer'; readonly option?: string; readonly min: number; readonly max: number }
  | { readonly kind: 'string'; readonly option?: string; readonly allowed?: readonly string[] }
  | { readonly kind: 'boolean'; readonly option?: string }

/**
 * Reads the Tidings query parameters of a transport URL (`?namespace=shop&publishTimeoutMs=5000`)
 * into options, with one rule for every transport: an unknown parameter is refused, naming the known
 * ones, so a typo never falls back to a default silently. `passThrough` names parameters the broker
 * client reads itself; they stay in the returned URL. `hint` ends the messages about a malformed URL
 * or an unknown parameter with what to write instead (the URL's shape, where other settings go).
 */
export function readUrlOptions(
  url: string,
  transportName: string,
  parameters: Readonly<Record<string, UrlParameter>>,
  passThrough: readonly string[] = [],
  hint = '',
): { readonly options: Record<string, unknown>; readonly url: URL } {
  const more = hint === '' ? '' : ` ${hint}`
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new ConfigError(`The ${transportName} URL ${redactUrl(url)} is not a valid URL.${more}`)
  }
  const options: Record<string, unknown> = {}
  const kept = new URL(parsed.href)
  kept.search = ''
  for (const [name, value] of parsed.searchParams) {
    const parameter = parameters[name]
    if (parameter === undefined) {
      if (passThrough.includes(name)) {
        kept.searchParams.append(name, value)
        continue
      }
      throw new ConfigError(
        `The ${transportName} URL has an unknown query parameter "${name}": use ${[...Object.keys(parameters), ...passThrough].join(', ')}.${more}`,
      )
    }
    options[parameter.option ?? name] = parseParameter(name, value, parameter, transportName)
  }
  return { options, url: kept }
}

function parseParameter(
  name: string,
  value: string,
  parameter: UrlParameter,
  transportName: string,
): unknown {
  if (parameter.kind === 'string') {
    if (parameter.allowed && !parameter.allowed.includes(value)) {
      throw new ConfigError(
        `The ${transportName} URL parameter ${name} must be one of ${parameter.allowed.join(', ')}; got ${JSON.stringify(value)}.`,
      )
    }
    return value
  }
  if (parameter.kind === 'boolean') {
    if (value === 'true' || value === '1' || value === '') return true
    if (value === 'false' || value === '0') return false
    throw new ConfigError(
      `The ${transportName} URL parameter ${name} must be true or false; got ${JSON.stringify(value)}.`,
    )
  }
  const number = value.trim() === '' ? Number.NaN : Number(value)
  if (!Number.isInteger(number) || number < parameter.min || number > parameter.max) {
    throw new ConfigError(
      `The ${transportName} URL parameter ${name} must be a whole number from ${parameter.min} to ${parameter.max}; got ${JSON.stringify(value)}.`,
    )
  }
  return number
}
