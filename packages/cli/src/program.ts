import { readFileSync } from 'node:fs'
import { Command, CommanderError, InvalidArgumentError } from 'commander'
import { benchCommand } from './commands/bench.js'
import { consoleCommand } from './commands/console.js'
import { demoCommand } from './commands/demo.js'
import { dlqList, dlqPurge, dlqReplay, dlqShow } from './commands/dlq.js'
import { groupsCommand } from './commands/groups.js'
import { publishCommand } from './commands/publish.js'
import { tailCommand } from './commands/tail.js'
import { describeFailure } from './errors.js'
import { type Terminal, writeLine } from './terminal.js'

const VERSION = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version

export interface RunContext {
  readonly terminal: Terminal
  /** Ctrl-C: `tail` stops cleanly (its ephemeral group removed) instead of dying. */
  onInterrupt(stop: () => void): () => void
}

/** Runs one command line; resolves with the exit code (0 ok, 1 failed, 2 usage). */
export async function runCli(
  args: readonly string[],
  context: RunContext = processContext(),
): Promise<number> {
  const { terminal } = context
  let url: string | undefined
  const program = buildProgram(context, (used) => {
    url = used
  })
  try {
    await program.parseAsync(args as string[], { from: 'user' })
    return 0
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here with code 0; usage errors were printed by commander.
      return error.exitCode === 0 ? 0 : 2
    }
    const debug = args.includes('--debug')
    const { line, exitCode } = describeFailure(error, url ?? terminal.env.TIDINGS_URL)
    writeLine(terminal.err, `tidings: ${line}`)
    if (debug && error instanceof Error && error.stack) writeLine(terminal.err, error.stack)
    return exitCode
  }
}

function buildProgram(context: RunContext, usedUrl: (url: string | undefined) => void): Command {
  const { terminal } = context
  const program = new Command('tidings')
  program
    .description('Look at and operate a Tidings event bus: the same commands on every broker.')
    .version(VERSION, '-V, --version', 'print the version')
    .option(
      '--url <url>',
      'broker URL (amqp://, redis://, nats://, sqs://, memory://); default: $TIDINGS_URL',
    )
    .option('--debug', 'log what the bus does, and print stacks on failure')
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => terminal.out.write(text),
      writeErr: (text) => terminal.err.write(text),
    })
    .addHelpText(
      'after',
      `
The broker comes from --url or TIDINGS_URL; its namespace from the URL (?namespace=…).
Credentials in the URL are never printed.

Examples:
  $ TIDINGS_URL=redis://127.0.0.1:6379 tidings tail 'order.#'
  $ tidings publish order.placed '{"orderId":"o-1"}' --key o-1
  $ tidings dlq ls shipping-create-shipment
  $ tidings groups --json | jq .`,
    )
    .hook('preAction', (_program, action) => {
      usedUrl(action.optsWithGlobals<{ url?: string }>().url)
    })

  const connection = (command: Command) => command.optsWithGlobals<{ url?: string; debug?: boolean }>()

  program
    .command('tail')
    .description('print events as they pass (an ephemeral listener, removed when tail stops)')
    .argument('[patterns...]', 'event patterns: * one word, # zero or more (default: #, every event)')
    .option('--json', 'one CloudEvent per line (NDJSON), for jq')
    .option('--limit <n>', 'stop after n events', positiveInteger)
    .addHelpText(
      'after',
      `\nExamples:\n  $ tidings tail 'order.*' payment.captured\n  $ tidings tail --json --limit 10 | jq .data`,
    )
    .action(async (patterns: string[], options: { json?: boolean; limit?: number }, command: Command) => {
      await tailCommand(patterns, { ...connection(command), ...options }, terminal, context)
    })

  program
    .command('publish')
    .description('publish one event (or --count of them) and print its id')
    .argument('<type>', 'event name, such as order.placed')
    .argument('[payload]', "JSON payload, @file.json, or '-'/nothing to read standard input")
    .option('--key <key>', 'ordering key (events with one key keep their order)')
    .option('--source <service>', 'publishing service name (the CloudEvents source)', 'tidings-cli')
    .option('--count <n>', 'publish n events (a load test)', positiveInteger, 1)
    .option('--json', 'print {"id","type"} per event as JSON lines')
    .addHelpText(
      'after',
      `\nExamples:\n  $ tidings publish order.placed '{"orderId":"o-1","amount":42}' --key o-1\n  $ tidings publish order.placed @order.json\n  $ echo '{"orderId":"o-2"}' | tidings publish order.placed`,
    )
    .action(async (type: string, payload: string | undefined, options, command: Command) => {
      await publishCommand(
        type,
        payload === '-' ? undefined : payload,
        { ...connection(command), ...options },
        terminal,
      )
    })

  const dlq = program
    .command('dlq')
    .description("a group's dead letters: ls, show, replay, purge")
    .addHelpText('after', '\nExample:\n  $ tidings dlq ls shipping-create-shipment')
  dlq
    .command('ls')
    .description('list dead letters, oldest first: id, type, reason, attempts, last error, when')
    .argument('<group>', 'consumer group, <service>-<listener>')
    .option('--limit <n>', 'at most n (default 50)', positiveInteger)
    .option('--json', 'one dead letter per line as JSON')
    .addHelpText('after', '\nExample:\n  $ tidings dlq ls shipping-create-shipment --limit 10')
    .action(async (group: string, options, command: Command) => {
      await dlqList(group, { ...connection(command), ...options }, terminal)
    })
  dlq
    .command('show')
    .description('one dead letter: the event and every failed attempt')
    .argument('<group>', 'consumer group')
    .argument('<id>', 'event id, from dlq ls')
    .option('--json', 'as JSON')
    .addHelpText('after', '\nExample:\n  $ tidings dlq show shipping-create-shipment 0193a5c2-…')
    .action(async (group: string, id: string, options, command: Command) => {
      await dlqShow(group, id, { ...connection(command), ...options }, terminal)
    })
  dlq
    .command('replay')
    .description('send dead letters back to their group (only) as a new attempt chain')
    .argument('<group>', 'consumer group')
    .argument('[ids...]', 'event ids to replay')
    .option('--all', 'replay every dead letter of the group')
    .option('--json', 'print {"group","replayed"} as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  $ tidings dlq replay shipping-create-shipment 0193a5c2-…\n  $ tidings dlq replay shipping-create-shipment --all',
    )
    .action(async (group: string, ids: string[], options, command: Command) => {
      await dlqReplay(group, ids, { ...connection(command), ...options }, terminal)
    })
  dlq
    .command('purge')
    .description('delete every dead letter of the group (asks first on a terminal)')
    .argument('<group>', 'consumer group')
    .option('--yes', 'do not ask (scripts)')
    .option('--json', 'print {"group","purged"} as JSON')
    .addHelpText('after', '\nExample:\n  $ tidings dlq purge shipping-create-shipment --yes')
    .action(async (group: string, options, command: Command) => {
      await dlqPurge(group, { ...connection(command), ...options }, terminal)
    })

  program
    .command('groups')
    .description('every group of the namespace: backlog, in flight, waiting retries, dead letters, consumers')
    .option('--json', 'one group per line as JSON (null: the broker does not report it)')
    .addHelpText('after', '\nExample:\n  $ tidings groups')
    .action(async (options: { json?: boolean }, command: Command) => {
      await groupsCommand({ ...connection(command), ...options }, terminal)
    })

  program
    .command('bench')
    .description('throughput and latency on the configured broker (an ephemeral group, removed after)')
    .option('--events <n>', 'events to send', positiveInteger, 10_000)
    .option('--size <bytes>', 'approximate event size', positiveInteger, 1024)
    .option('--concurrency <n>', 'publishes in flight, and the listener concurrency', positiveInteger, 100)
    .option('--json', 'the result as one JSON line')
    .addHelpText('after', '\nExample:\n  $ tidings bench --events 50000 --size 512 --concurrency 200')
    .action(async (options, command: Command) => {
      await benchCommand({ ...connection(command), ...options }, terminal)
    })

  program
    .command('demo')
    .description('the shop demo: in memory, or on the broker of --url / TIDINGS_URL (namespace tidingsdemo)')
    .option(
      '--console',
      'record it in an embedded journal (PGlite) and serve the web console on it until Ctrl-C',
    )
    .option('--journal', 'the same as --console')
    .option('--port <n>', 'with --console: port to listen on (0: any free port)', nonNegativeInteger, 0)
    .option('--host <host>', 'with --console: address to listen on', '127.0.0.1')
    .option('--token <secret>', 'with --console: access token for replay and purge (default: a random one)')
    .addHelpText(
      'after',
      '\nExamples:\n  $ tidings demo\n  $ tidings demo --console --port 8080\n  $ TIDINGS_URL=amqp://guest:guest@127.0.0.1:5672 tidings demo',
    )
    .action(async (options, command: Command) => {
      await demoCommand(
        { ...connection(command), ...options, console: options.console === true || options.journal === true },
        terminal,
        context,
      )
    })

  program
    .command('console')
    .description(
      'the web console: search the journal, traces per group, replay, dead letters (@tidings/console)',
    )
    .requiredOption('--journal <store>', 'the journal: postgres://user@host:5432/db or pglite:<directory>')
    .option('--port <n>', 'port to listen on (0: any free port)', nonNegativeInteger, 8080)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--token <secret>', 'access token for replay and purge (default: $TIDINGS_CONSOLE_TOKEN)')
    .option('--read-only', 'no replay, no purge')
    .addHelpText(
      'after',
      `\nExamples:\n  $ tidings console --journal postgres://app@127.0.0.1:5432/app --token "$(openssl rand -hex 16)"\n  $ tidings console --journal pglite:./journal --read-only --port 0`,
    )
    .action(async (options, command: Command) => {
      await consoleCommand({ ...connection(command), ...options }, terminal, context)
    })

  for (const command of [program, ...program.commands, ...dlq.commands]) {
    command.exitOverride().configureOutput({
      writeOut: (text) => terminal.out.write(text),
      writeErr: (text) => terminal.err.write(text),
    })
  }
  return program
}

function positiveInteger(value: string): number {
  const number = Number(value)
  if (!Number.isSafeInteger(number) || number < 1) {
    throw new InvalidArgumentError(`"${value}" is not a whole number of at least 1.`)
  }
  return number
}

function nonNegativeInteger(value: string): number {
  const number = Number(value)
  if (!Number.isSafeInteger(number) || number < 0) {
    throw new InvalidArgumentError(`"${value}" is not a whole number of at least 0.`)
  }
  return number
}

function processContext(): RunContext {
  return {
    terminal: { out: process.stdout, err: process.stderr, in: process.stdin, env: process.env },
    onInterrupt(stop) {
      const handler = (): void => stop()
      process.on('SIGINT', handler)
      process.on('SIGTERM', handler)
      return () => {
        process.off('SIGINT', handler)
        process.off('SIGTERM', handler)
      }
    },
  }
}
