import { randomBytes } from 'node:crypto'
import type { Event } from '@tidings/core'
import { redactUrl } from '@tidings/core'
import { type ConnectionOptions, cliBus, resolveUrl } from '../connection.js'
import { clockTime, preview } from '../format.js'
import { colorsFor, type Terminal, writeJson, writeLine } from '../terminal.js'

export interface TailOptions extends ConnectionOptions {
  readonly json?: boolean | undefined
  readonly limit?: number | undefined
}

/**
 * An ephemeral listener (`durable: false`): it sees events published from now on, and its group is
 * removed when it stops (Ctrl-C, --limit, or the broker's expiry after a crash).
 */
export async function tailCommand(
  patterns: readonly string[],
  options: TailOptions,
  terminal: Terminal,
  signals: { onInterrupt(stop: () => void): () => void },
): Promise<void> {
  const url = resolveUrl(options, terminal.env)
  const colors = colorsFor(terminal.out, terminal.env)
  const listening = patterns.length > 0 ? patterns : ['#']
  const bus = cliBus(url, options)
  let seen = 0
  let finish: () => void = () => {}
  const finished = new Promise<void>((resolve) => {
    finish = resolve
  })
  const print = (event: Event): void => {
    if (options.json) {
      writeJson(terminal.out, event)
      return
    }
    writeLine(
      terminal.out,
      `${colors.dim(clockTime(event.time))}  ${colors.cyan(event.type)}  ${colors.dim(event.id)}  ${event.source}  ${preview(event.data)}`,
    )
  }
  bus.listen(
    listening as string[],
    (event) => {
      if (options.limit !== undefined && seen >= options.limit) return
      seen += 1
      print(event)
      if (options.limit !== undefined && seen >= options.limit) finish()
    },
    {
      name: `tail-${randomBytes(4).toString('hex')}`,
      durable: false,
      concurrency: 1, // in publish order
      retry: false,
    },
  )
  const removeInterrupt = signals.onInterrupt(finish)
  try {
    await bus.start()
    writeLine(
      terminal.err,
      colors.dim(`Tailing ${listening.join(' ')} on ${redactUrl(url)} (Ctrl-C to stop)`),
    )
    await finished
  } finally {
    removeInterrupt()
    await bus.close() // removes the ephemeral group
  }
}
