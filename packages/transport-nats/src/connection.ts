import { connect, type NatsConnection, type NodeConnectionOptions } from '@nats-io/transport-node'
import { backOffDelay, ConnectionError, type TransportContext } from '@tidings/core/transport'
import type { NatsTransportOptions, ResolvedOptions } from './options.js'

/** Where to connect and as whom, from the URL or the options; never logged with its secrets. */
export interface ConnectionTarget {
  readonly servers: string[]
  readonly user?: string
  readonly pass?: string
  readonly token?: string
  readonly tls?: NodeConnectionOptions['tls']
  /** host:port list for messages: no credentials. */
  readonly where: string
}

export function connectionTarget(options: NatsTransportOptions): ConnectionTarget {
  let servers: string[]
  let user = options.user
  let pass = options.password
  let token = options.token
  let tls = options.tls
  if (options.url !== undefined) {
    const url = new URL(options.url)
    servers = [`${url.hostname}:${url.port || 4222}`]
    if (url.username && url.password) {
      user ??= decodeURIComponent(url.username)
      pass ??= decodeURIComponent(url.password)
    } else if (url.username) {
      token ??= decodeURIComponent(url.username)
    }
    if (url.protocol === 'tls:' || url.searchParams.get('tls') === 'true') tls ??= {}
  } else {
    servers = typeof options.servers === 'string' ? [options.servers] : [...(options.servers ?? [])]
  }
  return {
    servers,
    ...(user === undefined ? {} : { user }),
    ...(pass === undefined ? {} : { pass }),
    ...(token === undefined ? {} : { token }),
    ...(tls === undefined ? {} : { tls }),
    where: servers.join(','),
  }
}

/**
 * Connects, retrying refused connections with back-off for up to connectTimeoutMs (a server that is
 * starting), but failing at once on refused credentials. Once connected, nats.js reconnects forever.
 */
export async function openConnection(
  target: ConnectionTarget,
  options: ResolvedOptions,
  extra: NatsTransportOptions['connectionOptions'],
  context: TransportContext,
): Promise<NatsConnection> {
  const deadline = Date.now() + options.connectTimeoutMs
  let lastError: unknown
  for (let attempt = 1; ; attempt += 1) {
    const remaining = deadline - Date.now()
    if (remaining <= 0) {
      throw new ConnectionError(
        `Could not connect to NATS at ${target.where} within ${options.connectTimeoutMs} ms (${(lastError as Error)?.message ?? 'no answer'}): check that nats-server runs with -js and the URL's host and port are right.`,
        { cause: lastError },
      )
    }
    try {
      return await connect({
        reconnectTimeWait: 250,
        reconnectJitter: 100,
        pingInterval: 10_000,
        // nats.js otherwise builds an Error per request up front for its stack trace: a sixth of the
        // CPU of a publish. Tidings' own errors say what failed.
        noAsyncTraces: true,
        ...extra,
        servers: target.servers,
        ...(target.user === undefined ? {} : { user: target.user }),
        ...(target.pass === undefined ? {} : { pass: target.pass }),
        ...(target.token === undefined ? {} : { token: target.token }),
        ...(target.tls === undefined ? {} : { tls: target.tls }),
        name: extra?.name ?? `tidings:${options.namespace}`,
        maxReconnectAttempts: -1,
        timeout: Math.max(1, Math.min(remaining, 5000)),
        waitOnFirstConnect: false,
      })
    } catch (error) {
      lastError = error
      if (isAuthenticationError(error)) {
        throw new ConnectionError(
          `NATS at ${target.where} refused the credentials (${(error as Error).message}): check the user and password or token in the URL (nats://user:password@host:4222 or nats://token@host:4222).`,
          { cause: error, authentication: true },
        )
      }
      context.logger.debug(
        { server: target.where, error: (error as Error)?.message },
        'NATS connection failed; trying again',
      )
      await new Promise((resolve) =>
        setTimeout(resolve, Math.min(backOffDelay(attempt), Math.max(0, deadline - Date.now()))),
      )
    }
  }
}

function isAuthenticationError(error: unknown): boolean {
  const text = `${(error as Error)?.name ?? ''} ${(error as Error)?.message ?? ''}`
  return /authorization|authentication/i.test(text)
}

/** Reports disconnects and reconnects to the bus until the connection closes. */
export function watchStatus(
  connection: NatsConnection,
  context: TransportContext,
  isClosing: () => boolean,
): void {
  let reconnects = 0
  let down = false
  void (async () => {
    for await (const status of connection.status()) {
      if (isClosing()) return
      if (status.type === 'disconnect' && !down) {
        down = true
        context.notify({ kind: 'disconnected' })
      } else if (status.type === 'reconnect' && down) {
        down = false
        reconnects += 1
        context.notify({ kind: 'reconnected', attempt: reconnects })
      } else if (status.type === 'error') {
        context.logger.warn({ error: (status as { error?: Error }).error?.message }, 'NATS connection error')
      }
    }
  })().catch(() => {})
}
