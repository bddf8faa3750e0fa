import { createInterface } from 'node:readline/promises'
import type { DeadLetter, DeadLetterQueue } from '@tidings/core'
import { type ConnectionOptions, cliBus, resolveUrl } from '../connection.js'
import { CommandError, UsageError } from '../errors.js'
import { preview, table } from '../format.js'
import { colorsFor, type Terminal, writeJson, writeLine } from '../terminal.js'

export interface DlqOptions extends ConnectionOptions {
  readonly json?: boolean | undefined
  readonly limit?: number | undefined
}

/** How many dead letters `show` searches for the id (list() reads oldest first). */
const SHOW_SEARCH_LIMIT = 10_000

export async function dlqList(group: string, options: DlqOptions, terminal: Terminal): Promise<void> {
  await withDeadLetters(group, options, terminal, async (queue) => {
    const letters = await queue.list({ limit: options.limit ?? 50 })
    if (options.json) {
      for (const letter of letters) writeJson(terminal.out, toJson(letter))
      return
    }
    const colors = colorsFor(terminal.out, terminal.env)
    if (letters.length === 0) {
      writeLine(terminal.out, `No dead letters in group ${group}.`)
      return
    }
    const rows = letters.map((letter) => {
      const last = letter.history[letter.history.length - 1]
      return [
        letter.id,
        letter.event?.type ?? '(undecodable)',
        preview(letter.reason, 40),
        letter.history.length,
        last ? preview(`${last.error.name}: ${last.error.message}`, 40) : '–',
        letter.deadLetteredAt,
      ]
    })
    writeLine(terminal.out, table(['id', 'type', 'reason', 'attempts', 'last error', 'when'], rows, colors))
    const total = await queue.count()
    if (total > letters.length) {
      writeLine(terminal.out, colors.dim(`${letters.length} of ${total}; --limit N shows more.`))
    }
  })
}

export async function dlqShow(
  group: string,
  id: string,
  options: DlqOptions,
  terminal: Terminal,
): Promise<void> {
  await withDeadLetters(group, options, terminal, async (queue) => {
    const letter = (await queue.list({ limit: SHOW_SEARCH_LIMIT })).find((each) => each.id === id)
    if (!letter) {
      throw new CommandError(
        `Group ${group} has no dead letter with id ${id} (\`tidings dlq ls ${group}\` lists them).`,
      )
    }
    if (options.json) {
      writeJson(terminal.out, toJson(letter))
      return
    }
    const colors = colorsFor(terminal.out, terminal.env)
    writeLine(terminal.out, `${colors.bold('Dead letter')} ${letter.id} of group ${letter.group}`)
    writeLine(terminal.out, `${colors.bold('Reason')}      ${letter.reason}`)
    writeLine(terminal.out, `${colors.bold('When')}        ${letter.deadLetteredAt}`)
    writeLine(terminal.out, colors.bold('Event'))
    writeLine(
      terminal.out,
      letter.event ? indent(JSON.stringify(letter.event, null, 2)) : indent(letter.body.toString('utf8')),
    )
    writeLine(terminal.out, colors.bold(`Attempts (${letter.history.length})`))
    for (const failure of letter.history) {
      const delay =
        failure.retryDelayMs === undefined ? '' : colors.dim(` → retry in ${failure.retryDelayMs} ms`)
      writeLine(
        terminal.out,
        `  ${failure.attempt}. ${failure.at}  ${colors.red(`${failure.error.name}: ${failure.error.message}`)}${delay}`,
      )
      // The stack's first line repeats the message just printed.
      const frames = failure.error.stack?.split('\n').filter((line) => /^\s+at /.test(line))
      if (frames?.length)
        writeLine(terminal.out, colors.dim(indent(frames.map((line) => line.trim()).join('\n'), 6)))
    }
  })
}

export async function dlqReplay(
  group: string,
  ids: readonly string[],
  options: DlqOptions & { readonly all?: boolean | undefined },
  terminal: Terminal,
): Promise<void> {
  if (ids.length === 0 && !options.all) {
    throw new UsageError(
      `Name the dead letters to replay (tidings dlq replay ${group} <id...>) or pass --all.`,
    )
  }
  if (ids.length > 0 && options.all) throw new UsageError('Give ids or --all, not both.')
  await withDeadLetters(group, options, terminal, async (queue) => {
    const replayed = await queue.replay(options.all ? 'all' : ids)
    if (options.json) writeJson(terminal.out, { group, replayed })
    else
      writeLine(
        terminal.out,
        `Replayed ${replayed} dead letter${replayed === 1 ? '' : 's'} to group ${group}.`,
      )
    if (!options.all && replayed < ids.length && !options.json) {
      writeLine(terminal.err, `${ids.length - replayed} of the ids were not in the dead-letter queue.`)
    }
  })
}

export async function dlqPurge(
  group: string,
  options: DlqOptions & { readonly yes?: boolean | undefined },
  terminal: Terminal,
): Promise<void> {
  await withDeadLetters(group, options, terminal, async (queue) => {
    const count = await queue.count()
    if (count > 0 && !options.yes) {
      if (terminal.in.isTTY !== true || terminal.out.isTTY !== true) {
        throw new UsageError(
          `Refusing to purge ${count} dead letters of ${group} without a terminal to ask: pass --yes.`,
        )
      }
      const prompt = createInterface({ input: terminal.in, output: terminal.out })
      const answer = await prompt.question(
        `Purge ${count} dead letters of group ${group}? They cannot be recovered. [y/N] `,
      )
      prompt.close()
      if (!/^y(es)?$/i.test(answer.trim())) {
        writeLine(terminal.out, 'Nothing purged.')
        return
      }
    }
    const purged = count === 0 ? 0 : await queue.purge()
    if (options.json) writeJson(terminal.out, { group, purged })
    else writeLine(terminal.out, `Purged ${purged} dead letter${purged === 1 ? '' : 's'} of group ${group}.`)
  })
}

async function withDeadLetters(
  group: string,
  options: ConnectionOptions,
  terminal: Terminal,
  work: (queue: DeadLetterQueue) => Promise<void>,
): Promise<void> {
  const url = resolveUrl(options, terminal.env)
  const bus = cliBus(url, options)
  try {
    await work(bus.deadLetters(group))
  } finally {
    await bus.close()
  }
}

/** A dead letter as JSON: the event (or the raw body when it did not decode) with its full record. */
function toJson(letter: DeadLetter): object {
  return {
    id: letter.id,
    group: letter.group,
    reason: letter.reason,
    deadLetteredAt: letter.deadLetteredAt,
    attempts: letter.history.length,
    history: letter.history,
    event: letter.event ?? null,
    ...(letter.event ? {} : { body: letter.body.toString('utf8') }),
  }
}

function indent(text: string, spaces = 2): string {
  const pad = ' '.repeat(spaces)
  return text
    .split('\n')
    .map((line) => pad + line)
    .join('\n')
}
