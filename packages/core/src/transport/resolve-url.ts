import { ConfigError, TransportNotInstalledError } from '../errors/errors.js'
import { memoryTransport } from '../memory/memory-transport.js'
import type { Transport } from './transport.js'

/** URL scheme → adapter package. Core imports none of them statically (SPEC §1). */
export const TRANSPORT_PACKAGES: Readonly<Record<string, string>> = {
  'amqp:': '@tidings/transport-amqp',
  'amqps:': '@tidings/transport-amqp',
  'redis:': '@tidings/transport-redis-streams',
  'rediss:': '@tidings/transport-redis-streams',
  'nats:': '@tidings/transport-nats',
  'sqs:': '@tidings/transport-sqs',
}

/** What an adapter package exports for URL configuration. */
export interface TransportModule {
  createTransportFromUrl(url: string): Transport
}

/** Every scheme `createBus({ url })` understands, as a user writes it. */
export const TRANSPORT_SCHEMES: readonly string[] = [
  'memory://',
  ...Object.keys(TRANSPORT_PACKAGES).map((scheme) => `${scheme}//`),
]

/**
 * Whether a configured URL counts as unset: `undefined`, `null`, or a string of only white space.
 * `TIDINGS_URL=` (set but empty, as `.env` files and CI templates often leave it) is unset.
 */
export function isUnsetUrl(url: unknown): url is undefined | null | '' {
  return url === undefined || url === null || (typeof url === 'string' && url.trim() === '')
}

/**
 * The transport URL in force: `url` when given and not empty, else `TIDINGS_URL` when set and not
 * empty, else `undefined`. Every reader of TIDINGS_URL goes through this, so an empty value behaves
 * as unset everywhere.
 */
export function configuredTransportUrl(
  url?: string | null,
  env: Readonly<Record<string, string | undefined>> = process.env,
): string | undefined {
  if (!isUnsetUrl(url)) return url
  const fromEnv = env.TIDINGS_URL
  return isUnsetUrl(fromEnv) ? undefined : fromEnv
}

/** Parses and checks a TIDINGS_URL without loading anything (so createBus can fail fast). */
export function parseTransportUrl(url: unknown): URL {
  if (isUnsetUrl(url)) {
    throw new ConfigError(
      'No transport: pass createBus({ transport }) or createBus({ url }), or set TIDINGS_URL (for example memory://, amqp://localhost, redis://localhost:6379).',
    )
  }
  if (typeof url !== 'string') {
    throw new ConfigError(
      `The transport URL must be a string such as redis://localhost:6379, got ${url === null ? 'null' : typeof url}.`,
    )
  }
  const schemes = TRANSPORT_SCHEMES.join(', ')
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new ConfigError(
      `The transport URL "${redactUrl(url)}" is not a valid URL: ${suggestion(url)}use one of ${schemes}, for example redis://localhost:6379 or amqp://user:password@host:5672.`,
    )
  }
  if (parsed.protocol !== 'memory:' && !(parsed.protocol in TRANSPORT_PACKAGES)) {
    throw new ConfigError(
      `The transport URL scheme "${parsed.protocol}" is unknown (in "${redactUrl(url)}"): ${suggestion(url)}use one of ${schemes}.`,
    )
  }
  if (parsed.protocol !== 'memory:' && !/^[a-z][a-z0-9+.-]*:\/\//i.test(url.trim())) {
    // `redis:localhost` parses with an empty host and "localhost" as its path.
    const rest = url.trim().slice(parsed.protocol.length).replace(/^\/*/, '')
    throw new ConfigError(
      `The transport URL "${redactUrl(url)}" has no host: write it with "//" after the scheme, as in ${redactUrl(`${parsed.protocol}//${rest}`)}.`,
    )
  }
  return parsed
}

/** Default ports of the brokers, to turn `localhost:6379` into a suggestion. */
const SCHEME_BY_PORT: Readonly<Record<string, string>> = {
  '5672': 'amqp://',
  '5671': 'amqps://',
  '6379': 'redis://',
  '6380': 'rediss://',
  '4222': 'nats://',
}

/** "did you mean redis://localhost:6379? " for a URL written as host:port without a scheme. */
function suggestion(url: string): string {
  const match =
    /^\s*(?:\/\/)?(?:[^\s:/?#@]+(?::[^\s/?#@]*)?@)?(?:\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::(\d{1,5}))?(?=\s*$|[/?#])/i.exec(
      url,
    )
  if (match === null) return ''
  const written = url.trim().replace(/^\/\//, '')
  const scheme = match[1] === undefined ? undefined : SCHEME_BY_PORT[match[1]]
  if (scheme === undefined) {
    return `it needs a scheme in front, such as ${redactUrl(`redis://${written}`)} or ${redactUrl(`amqp://${written}`)}; `
  }
  return `did you mean ${redactUrl(`${scheme}${written}`)}? Otherwise `
}

/**
 * Loads the adapter for a URL by dynamic import, so only the installed transport is needed. `load`
 * is the import itself; tests pass one that behaves as in an app where the package is not installed.
 */
export async function transportFromUrl(
  url: string,
  load: (packageName: string) => Promise<unknown> = (packageName) => import(packageName),
): Promise<Transport> {
  const parsed = parseTransportUrl(url)
  if (parsed.protocol === 'memory:') {
    const max = parsed.searchParams.get('maxMessageBytes')
    return memoryTransport({
      namespace: parsed.hostname || parsed.searchParams.get('namespace') || 'default',
      ...(max === null ? {} : { maxMessageBytes: Number(max) }),
    })
  }
  const packageName = TRANSPORT_PACKAGES[parsed.protocol]!
  let module: Partial<TransportModule>
  try {
    module = (await load(packageName)) as Partial<TransportModule>
  } catch (error) {
    if (isMissingPackage(error, packageName))
      throw new TransportNotInstalledError(packageName, parsed.protocol.slice(0, -1), error)
    throw error
  }
  if (typeof module.createTransportFromUrl !== 'function') {
    throw new ConfigError(
      `${packageName} does not export createTransportFromUrl(url): upgrade it to match @tidings/core.`,
    )
  }
  return module.createTransportFromUrl(url)
}

/**
 * The URL without credentials or query (which may hold tokens): `amqp://***@host:5672/vhost`.
 * Safe for messages and logs; every transport uses it. A string that does not parse as a URL is
 * cut the same way (credentials before the last `@` masked, query and fragment dropped).
 */
export function redactUrl(url: string): string {
  if (typeof url !== 'string') return '(not a string)'
  try {
    const parsed = new URL(url)
    const auth = parsed.username || parsed.password ? '***@' : ''
    const path = parsed.pathname === '/' ? '' : parsed.pathname
    if (parsed.host === '' && !/^[a-z][a-z0-9+.-]*:\/\//i.test(url.trim())) {
      // No authority (`redis:user:pw@host`): everything after the scheme may hold a secret.
      return redactUnparsed(url.trim())
    }
    return `${parsed.protocol}//${auth}${parsed.host}${path}`
  } catch {
    return redactUnparsed(url.trim())
  }
}

/** Masks what could be credentials in a string that is not a URL, keeping it recognisable. */
function redactUnparsed(text: string): string {
  const withoutQuery = text.replace(/[?#].*$/s, '')
  const at = withoutQuery.lastIndexOf('@')
  if (at === -1) return withoutQuery.length > 200 ? `${withoutQuery.slice(0, 200)}…` : withoutQuery
  const scheme = /^[a-z][a-z0-9+.-]*:(?:\/\/)?/i.exec(withoutQuery)?.[0] ?? ''
  const safe = `${scheme}***@${withoutQuery.slice(at + 1)}`
  return safe.length > 200 ? `${safe.slice(0, 200)}…` : safe
}

function isMissingPackage(error: unknown, packageName: string): boolean {
  const code = (error as { code?: string } | null)?.code
  const message = error instanceof Error ? error.message : ''
  return (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && message.includes(packageName)
}
