import { randomBytes } from 'node:crypto'
import { redactUrl } from '@tidings/core'
import { resolveUrl } from '../connection.js'
import { runShopScenario, type ScenarioResult } from '../demo/shop-scenario.js'
import { CommandError } from '../errors.js'
import { type Terminal, writeLine } from '../terminal.js'

/**
 * The shop: order placed → payment captured → shipment created, one carrier timeout retried, one
 * poison order dead-lettered with its history. In memory unless TIDINGS_URL (or --url) names a
 * broker; on a broker it runs in its own namespace, `tidingsdemo`. With `--console`, recorded in an
 * embedded journal and served in the web console until Ctrl-C.
 */
export interface DemoCommandOptions {
  readonly url?: string | undefined
  /** Record the demo in an embedded journal (PGlite) and serve the web console on it until Ctrl-C. */
  readonly console?: boolean | undefined
  readonly port?: number | undefined
  readonly host?: string | undefined
  readonly token?: string | undefined
}

export async function demoCommand(
  options: DemoCommandOptions,
  terminal: Terminal,
  signals: { onInterrupt(stop: () => void): () => void },
): Promise<void> {
  const url = resolveUrl(options, terminal.env, 'memory://')
  const journal = options.console ? await openDemoJournal() : undefined
  writeLine(
    terminal.out,
    `Tidings shop demo on ${redactUrl(url)}${journal ? ', recorded in a journal' : ''}\n`,
  )
  const result = await runShopScenario({
    url,
    print: (line) => writeLine(terminal.out, line),
    ...(journal ? { observe: (bus) => journal.journal.attach(bus), keepRunning: true } : {}),
  })
  writeLine(terminal.out, `\nDead letters in group shipping-create-shipment: ${result.deadLetters.length}`)
  for (const letter of result.deadLetters) {
    writeLine(
      terminal.out,
      `  event ${letter.id} (${letter.event?.type}) ${JSON.stringify(letter.event?.data)}`,
    )
    writeLine(terminal.out, `  reason: ${letter.reason}`)
    for (const failure of letter.history) {
      writeLine(
        terminal.out,
        `    attempt ${failure.attempt} at ${failure.at}: ${failure.error.name}: ${failure.error.message}`,
      )
    }
  }
  writeLine(terminal.out, `\nShipped: ${result.shipped.join(', ') || 'nothing'}; retries: ${result.retries}.`)
  if (result.shipped.length !== 1 || result.deadLetters.length !== 1) {
    await result.running?.close()
    await journal?.journal.close()
    throw new CommandError('The demo did not end as expected (one order shipped, one dead letter).')
  }
  if (journal && result.running) await serveConsole(journal, result.running, options, terminal, signals)
}

type JournalModule = typeof import('@tidings/journal')
type ConsoleModule = typeof import('@tidings/console')

interface DemoJournal {
  readonly journal: ReturnType<JournalModule['createJournal']>
  readonly consoleModule: ConsoleModule
}

/** An in-memory PGlite journal, opened before the demo starts so a missing package is said first. */
async function openDemoJournal(): Promise<DemoJournal> {
  const [journalModule, consoleModule] = await Promise.all([
    import('@tidings/journal').catch(() => undefined),
    import('@tidings/console').catch(() => undefined),
  ])
  if (!journalModule || !consoleModule) {
    throw new CommandError(
      'tidings demo --console needs @tidings/journal, @tidings/console and @electric-sql/pglite: npm install @tidings/journal @tidings/console @electric-sql/pglite',
    )
  }
  const journal = journalModule.createJournal({ store: journalModule.pgliteJournalStore() })
  try {
    await journal.search({ limit: 1 })
  } catch (error) {
    await journal.close()
    throw new CommandError(
      `The demo's journal (PGlite in memory) did not open: ${(error as Error)?.message ?? String(error)}`,
    )
  }
  return { journal, consoleModule }
}

/** The console on the demo's journal, the shop still listening so a replay is handled; until Ctrl-C. */
async function serveConsole(
  { journal, consoleModule }: DemoJournal,
  running: NonNullable<ScenarioResult['running']>,
  options: DemoCommandOptions,
  terminal: Terminal,
  signals: { onInterrupt(stop: () => void): () => void },
): Promise<void> {
  let stop: () => void = () => {}
  const stopped = new Promise<void>((resolve) => {
    stop = resolve
  })
  const removeInterrupt = signals.onInterrupt(stop)
  try {
    await journal.flush()
    const token = options.token ?? terminal.env.TIDINGS_CONSOLE_TOKEN ?? randomBytes(12).toString('hex')
    const served = await consoleModule
      .createConsole({ journal, bus: running.bus, accessToken: token })
      .listen({ port: options.port ?? 0, hostname: options.host ?? '127.0.0.1' })
    writeLine(terminal.out, `\nConsole on ${served.url}/`)
    writeLine(
      terminal.out,
      `  search, open the dead-lettered payment.captured, replay it to shipping-create-shipment`,
    )
    writeLine(terminal.out, `  access token for replay and purge: ${token}`)
    writeLine(terminal.out, '  Ctrl-C to stop')
    await stopped
    await served.close()
  } finally {
    removeInterrupt()
    await running.close()
    await journal.close()
  }
}
