import { type ConnectionOptions, cliBus, resolveUrl } from '../connection.js'
import { CommandError, UsageError } from '../errors.js'
import { type Terminal, writeLine } from '../terminal.js'

export interface ConsoleCommandOptions extends ConnectionOptions {
  /** `postgres://…` or `pglite:<directory>`. */
  readonly journal: string
  readonly port: number
  readonly host: string
  readonly token?: string | undefined
  readonly readOnly?: boolean | undefined
}

/**
 * `tidings console`: the web console of @tidings/console on a journal store, with a bus on the
 * configured broker for replays and dead letters. Runs until Ctrl-C.
 */
export async function consoleCommand(
  options: ConsoleCommandOptions,
  terminal: Terminal,
  signals: { onInterrupt(stop: () => void): () => void },
): Promise<void> {
  const url = resolveUrl(options, terminal.env)
  const token = options.token ?? terminal.env.TIDINGS_CONSOLE_TOKEN
  if (!options.readOnly && !token) {
    throw new UsageError(
      'Replay and purge need an access token: pass --token <secret> (or set TIDINGS_CONSOLE_TOKEN), or --read-only.',
    )
  }
  const [journalModule, consoleModule] = await Promise.all([
    import('@tidings/journal').catch(() => undefined),
    import('@tidings/console').catch(() => undefined),
  ])
  if (!journalModule || !consoleModule) {
    throw new CommandError(
      'tidings console needs @tidings/console and @tidings/journal: npm install @tidings/console @tidings/journal (plus pg or @electric-sql/pglite for the store).',
    )
  }
  const store = options.journal.startsWith('pglite:')
    ? journalModule.pgliteJournalStore({ dataDir: options.journal.slice('pglite:'.length) })
    : /^postgres(ql)?:\/\//.test(options.journal)
      ? journalModule.postgresJournalStore({ connectionString: options.journal })
      : undefined
  if (!store) throw new UsageError('--journal takes postgres://user@host:5432/db or pglite:<directory>.')
  const journal = journalModule.createJournal({ store })
  const bus = cliBus(url, options)
  let stop: () => void = () => {}
  const stopped = new Promise<void>((resolve) => {
    stop = resolve
  })
  const removeInterrupt = signals.onInterrupt(stop)
  try {
    await journal.search({ limit: 1 }) // opens the store now: a wrong address fails here, not in the browser
    const served = await consoleModule
      .createConsole({ journal, bus, accessToken: token, readOnly: options.readOnly === true })
      .listen({ port: options.port, hostname: options.host })
    writeLine(
      terminal.out,
      `Console on ${served.url}/ (${options.readOnly ? 'read-only' : 'sign in with the token to replay or purge'}); Ctrl-C to stop`,
    )
    await stopped
    await served.close()
  } finally {
    removeInterrupt()
    await bus.close()
    await journal.close()
  }
}
