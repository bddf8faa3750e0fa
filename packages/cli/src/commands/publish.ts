import { readFile } from 'node:fs/promises'
import { text } from 'node:stream/consumers'
import type { Event } from '@tidings/core'
import { type ConnectionOptions, cliBus, resolveUrl } from '../connection.js'
import { UsageError } from '../errors.js'
import { type Terminal, writeJson, writeLine } from '../terminal.js'

export interface PublishOptions extends ConnectionOptions {
  readonly key?: string | undefined
  readonly source?: string | undefined
  readonly count?: number | undefined
  readonly json?: boolean | undefined
}

/** Events in flight at once with --count: enough to fill a broker's pipe, few enough to stay polite. */
const WINDOW = 100

export async function publishCommand(
  type: string,
  payloadArgument: string | undefined,
  options: PublishOptions,
  terminal: Terminal,
): Promise<void> {
  const url = resolveUrl(options, terminal.env)
  const data = await readPayload(payloadArgument, terminal)
  const count = options.count ?? 1
  const bus = cliBus(url, options, options.source ?? 'tidings-cli')
  try {
    const published: Event[] = []
    const started = performance.now()
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < count) {
        next += 1
        published.push(await bus.publish(type, data, options.key === undefined ? {} : { key: options.key }))
      }
    }
    await Promise.all(Array.from({ length: Math.min(WINDOW, count) }, worker))
    const elapsedMs = performance.now() - started
    if (options.json) {
      for (const event of published) writeJson(terminal.out, { id: event.id, type: event.type })
    } else if (count === 1) {
      writeLine(terminal.out, published[0]!.id)
    } else {
      const rate = Math.round((count / elapsedMs) * 1000)
      writeLine(
        terminal.out,
        `published ${count.toLocaleString('en-US')} "${type}" events in ${Math.round(elapsedMs)} ms (${rate.toLocaleString('en-US')}/s)`,
      )
    }
  } finally {
    await bus.close()
  }
}

/** The payload: the JSON argument, `@file.json`, or standard input when it is not a terminal. */
async function readPayload(argument: string | undefined, terminal: Terminal): Promise<unknown> {
  let source: string
  let where: string
  if (argument?.startsWith('@')) {
    where = argument.slice(1)
    source = await readFile(where, 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw new UsageError(`Cannot read the payload file "${where}": ${error.code ?? error.message}.`)
    })
  } else if (argument !== undefined) {
    where = 'the payload argument'
    source = argument
  } else if (terminal.in.isTTY !== true) {
    where = 'standard input'
    source = await text(terminal.in)
    if (source.trim() === '') return null
  } else {
    return null // no payload: an event without data
  }
  try {
    return JSON.parse(source)
  } catch (error) {
    throw new UsageError(
      `${where} is not JSON (${(error as Error).message}): quote it for the shell, e.g. '{"orderId":"o-1"}'.`,
    )
  }
}
