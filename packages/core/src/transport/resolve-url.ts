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

/** Parses and checks a TIDINGS_URL without loading anything (so createBus can fail fast). */
export function parseTransportUrl(url: unknown): URL {
  if (typeof url !== 'string' || url.length === 0) {
    throw new ConfigError(
      'No transport: pass createBus({ transport }) or createBus({ url }), or set TIDINGS_URL (for example memory://, amqp://localhost, redis://localhost:6379).',
    )
  }
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new ConfigError(
      `The transport URL "${redactUrl(url)}" is not a valid URL: use a form such as amqp://user:password@host:5672.`,
    )
  }
  if (parsed.protocol !== 'memory:' && !(parsed.protocol in TRANSPORT_PACKAGES)) {
    throw new ConfigError(
      `The transport URL scheme "${parsed.protocol}" is unknown: use one of memory:, ${Object.keys(TRANSPORT_PACKAGES).join(', ')}.`,
    )
  }
  return parsed
}

/** Loads the adapter for a URL by dynamic import, so only the installed transport is needed. */
export async function transportFromUrl(url: string): Promise<Transport> {
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
    module = (await import(packageName)) as Partial<TransportModule>
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
 * Safe for messages and logs; every transport uses it.
 */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url)
    const auth = parsed.username || parsed.password ? '***@' : ''
    const path = parsed.pathname === '/' ? '' : parsed.pathname
    return `${parsed.protocol}//${auth}${parsed.host}${path}`
  } catch {
    return '(an unparsable URL)'
  }
}

function isMissingPackage(error: unknown, packageName: string): boolean {
  const code = (error as { code?: string } | null)?.code
  const message = error instanceof Error ? error.message : ''
  return (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && message.includes(packageName)
}
