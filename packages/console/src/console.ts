import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { type AnyEvents, type Bus, ConfigError, type EventCatalogue, TidingsError } from '@tidings/core'
import type { Journal } from '@tidings/journal'
import { type Context, Hono } from 'hono'
import { getCookie, setCookie } from 'hono/cookie'
import { TOKEN_COOKIE, tokenMatches } from './auth.js'
import { deadLettersPage, eventPage, loginPage, messagePage, type PageContext, searchPage } from './pages.js'

export interface ConsoleOptions<Events extends EventCatalogue = AnyEvents> {
  /** What the console searches and traces. */
  readonly journal: Journal
  /** The bus replays and dead-letter actions go through (any service's bus on the same broker). */
  readonly bus: Bus<Events>
  /**
   * Required for anything that changes state (replay, purge): sign in with it on /login, or send it
   * as `Authorization: Bearer <token>`. Leave it out only with `readOnly: true`.
   */
  readonly accessToken?: string | undefined
  /** No replay, no purge: the buttons are gone and the endpoints answer 403. */
  readonly readOnly?: boolean | undefined
  /** Where the console is mounted in your server (default ''): links and forms start with it. */
  readonly basePath?: string | undefined
}

export interface TidingsConsole {
  /** The Hono app: mount it (`app.route('/tidings', console.app)`) or serve `console.fetch`. */
  readonly app: Hono
  readonly fetch: (request: Request) => Response | Promise<Response>
  /** Serve it on its own (default 127.0.0.1 and a free port); resolves with its URL. */
  listen(options?: { port?: number; hostname?: string }): Promise<{ url: string; close(): Promise<void> }>
}

/**
 * The web console: search the journal, an event's payload and its trace per group, replay to one
 * group, a group's dead letters with replay and purge. Server-rendered HTML, every value escaped; the
 * broker's and the database's addresses and credentials never reach the page.
 */
export function createConsole<Events extends EventCatalogue = AnyEvents>(
  options: ConsoleOptions<Events>,
): TidingsConsole {
  if (options === null || typeof options !== 'object' || typeof options.journal?.search !== 'function') {
    throw new ConfigError('createConsole({ journal, bus }) needs a journal from createJournal() and a bus.')
  }
  if (typeof options.bus?.deadLetters !== 'function') {
    throw new ConfigError('createConsole({ bus }) needs a bus (createBus()) for replays and dead letters.')
  }
  const readOnly = options.readOnly === true
  if (!readOnly && (typeof options.accessToken !== 'string' || options.accessToken.length < 12)) {
    throw new ConfigError(
      'createConsole() needs accessToken (at least 12 characters) for replay and purge, or readOnly: true.',
    )
  }
  const base = (options.basePath ?? '').replace(/\/$/, '')
  if (base !== '' && !/^\/[\w./-]*$/.test(base)) {
    throw new ConfigError(
      `createConsole({ basePath }) must look like /tidings, got ${JSON.stringify(options.basePath)}.`,
    )
  }
  const { journal } = options
  const bus = options.bus as unknown as Bus<AnyEvents>
  const token = options.accessToken

  const signedIn = (c: Context): boolean => {
    if (readOnly || token === undefined) return false
    const header = c.req.header('authorization')
    const bearer = header?.startsWith('Bearer ') ? header.slice(7) : undefined
    return tokenMatches(token, bearer ?? getCookie(c, TOKEN_COOKIE))
  }
  const page = (c: Context, title: string, extra: Partial<PageContext> = {}): PageContext => ({
    title,
    base,
    readOnly,
    signedIn: signedIn(c),
    canChange: !readOnly && signedIn(c),
    notice: c.req.query('notice'),
    ...extra,
  })
  /** State changes: 403 read-only, 401 without the token. */
  const guard = async (c: Context): Promise<Response | undefined> => {
    if (readOnly)
      return c.html(messagePage(page(c, 'Read-only'), 'Read-only', 'This console is read-only.'), 403)
    if (!signedIn(c)) {
      return c.html(
        messagePage(page(c, 'Sign in'), 'Sign in first', 'Replay and purge need the access token.'),
        401,
      )
    }
    return undefined
  }
  const failure = (c: Context, error: unknown, title: string) => {
    // Typed errors say what to fix and carry no credentials; anything else is summarised.
    const text = error instanceof TidingsError ? error.message : 'The action failed; see the server log.'
    return c.html(messagePage(page(c, title), title, text), error instanceof ConfigError ? 400 : 500)
  }

  const app = new Hono()
  app.use(async (c, next) => {
    await next()
    c.header(
      'Content-Security-Policy',
      "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    )
    c.header('X-Content-Type-Options', 'nosniff')
    c.header('Referrer-Policy', 'no-referrer')
  })

  app.get('/', async (c) => {
    const query = c.req.query('q') ?? ''
    try {
      const result = await journal.search({ query, cursor: c.req.query('cursor') || undefined })
      return c.html(searchPage(page(c, 'Events'), query, result.events, result.nextCursor, journal.stats()))
    } catch (error) {
      if (error instanceof TidingsError) {
        return c.html(searchPage(page(c, 'Events', { error: error.message }), query, [], undefined), 400)
      }
      throw error
    }
  })

  app.get('/events/:id', async (c) => {
    const trace = await journal.trace(c.req.param('id'))
    if (!trace) {
      return c.html(
        messagePage(page(c, 'Not found'), 'Not in the journal', `No event with id ${c.req.param('id')}.`),
        404,
      )
    }
    return c.html(eventPage(page(c, trace.event.type), trace))
  })

  app.post('/events/:id/replay', async (c) => {
    const denied = await guard(c)
    if (denied) return denied
    const id = c.req.param('id')
    const group = String((await c.req.parseBody()).group ?? '')
    try {
      await journal.replay(id, group, bus)
    } catch (error) {
      return failure(c, error, 'Replay failed')
    }
    return c.redirect(
      `${base}/events/${encodeURIComponent(id)}?notice=${encodeURIComponent(`Sent again to ${group} as attempt 1.`)}`,
      303,
    )
  })

  app.get('/groups/:group/dead-letters', async (c) => {
    const group = c.req.param('group')
    try {
      const queue = bus.deadLetters(group)
      const [letters, total] = await Promise.all([queue.list({ limit: 100 }), queue.count()])
      return c.html(deadLettersPage(page(c, `Dead letters of ${group}`), group, letters, total))
    } catch (error) {
      return failure(c, error, 'Dead letters')
    }
  })

  app.post('/groups/:group/dead-letters/replay', async (c) => {
    const denied = await guard(c)
    if (denied) return denied
    const group = c.req.param('group')
    const form = await c.req.parseBody()
    try {
      const replayed = await bus.deadLetters(group).replay(form.all === '1' ? 'all' : [String(form.id ?? '')])
      return c.redirect(deadLettersUrl(base, group, `Replayed ${replayed} to ${group}.`), 303)
    } catch (error) {
      return failure(c, error, 'Replay failed')
    }
  })

  app.post('/groups/:group/dead-letters/purge', async (c) => {
    const denied = await guard(c)
    if (denied) return denied
    const group = c.req.param('group')
    const form = await c.req.parseBody()
    if (form.confirm !== group) {
      return c.redirect(
        deadLettersUrl(base, group, 'Nothing purged: type the group name exactly to confirm.'),
        303,
      )
    }
    try {
      const purged = await bus.deadLetters(group).purge()
      return c.redirect(deadLettersUrl(base, group, `Purged ${purged} dead letters of ${group}.`), 303)
    } catch (error) {
      return failure(c, error, 'Purge failed')
    }
  })

  app.get('/login', (c) => c.html(loginPage(page(c, 'Sign in'))))
  app.post('/login', async (c) => {
    if (readOnly || token === undefined)
      return c.html(messagePage(page(c, 'Read-only'), 'Read-only', 'Nothing to sign in to.'), 403)
    const given = String((await c.req.parseBody()).token ?? '')
    if (!tokenMatches(token, given)) {
      return c.html(loginPage(page(c, 'Sign in', { error: 'That is not the access token.' })), 401)
    }
    setCookie(c, TOKEN_COOKIE, given, { httpOnly: true, sameSite: 'Strict', path: base || '/' })
    return c.redirect(`${base}/`, 303)
  })

  const root = base === '' ? app : new Hono().route(base, app)
  return {
    app: root,
    fetch: root.fetch,
    listen(listenOptions = {}) {
      return new Promise((resolve) => {
        const server = serve(
          {
            fetch: root.fetch,
            port: listenOptions.port ?? 0,
            hostname: listenOptions.hostname ?? '127.0.0.1',
          },
          (info: AddressInfo) => {
            resolve({
              url: `http://${info.address}:${info.port}${base}`,
              close: () => new Promise<void>((done) => server.close(() => done())),
            })
          },
        )
      })
    },
  }
}

function deadLettersUrl(base: string, group: string, notice: string): string {
  return `${base}/groups/${encodeURIComponent(group)}/dead-letters?notice=${encodeURIComponent(notice)}`
}
