import {
  type Bus,
  ConfigError,
  configuredTransportUrl,
  createBus,
  type Logger,
  parseTransportUrl,
  silentLogger,
} from '@tidings/core'
import { UsageError } from './errors.js'

export interface ConnectionOptions {
  /** --url; falls back to TIDINGS_URL. */
  readonly url?: string | undefined
  /** --debug: the bus logs to stderr. */
  readonly debug?: boolean | undefined
}

/** The URL a command runs on: --url, else TIDINGS_URL, else `fallback` (only `demo` has one). */
export function resolveUrl(options: ConnectionOptions, env: NodeJS.ProcessEnv, fallback?: string): string {
  const url = configuredTransportUrl(options.url, env) ?? fallback
  if (url === undefined) {
    throw new UsageError(
      'No broker: set TIDINGS_URL (for example TIDINGS_URL=redis://127.0.0.1:6379) or pass --url <url>.',
    )
  }
  try {
    parseTransportUrl(url)
  } catch (error) {
    if (error instanceof ConfigError) {
      const from = configuredTransportUrl(options.url, {}) !== undefined ? '--url' : 'TIDINGS_URL'
      throw new UsageError(`${from}: ${error.message}`)
    }
    throw error
  }
  return url
}

/** A bus for the CLI's own work; its service name is the CLI's, so its groups say where they come from. */
export function cliBus(url: string, options: ConnectionOptions, service = 'tidings-cli'): Bus {
  return createBus({
    service,
    url,
    logger: options.debug ? stderrLogger : silentLogger,
    drainTimeoutMs: 2_000,
  })
}

/** --debug: everything the bus logs, one line each on stderr (the transports never log credentials). */
const stderrLogger: Logger = {
  debug: (object, message) => logLine('debug', object, message),
  info: (object, message) => logLine('info', object, message),
  warn: (object, message) => logLine('warn', object, message),
  error: (object, message) => logLine('error', object, message),
}

function logLine(level: string, object: object, message?: string): void {
  process.stderr.write(`[${level}] ${message ?? ''} ${JSON.stringify(object, errorsAsText)}\n`)
}

function errorsAsText(_key: string, value: unknown): unknown {
  return value instanceof Error ? `${value.name}: ${value.message}\n${value.stack ?? ''}` : value
}
