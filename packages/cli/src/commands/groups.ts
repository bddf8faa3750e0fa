import { type ConnectionOptions, cliBus, resolveUrl } from '../connection.js'
import { table } from '../format.js'
import { colorsFor, type Terminal, writeJson, writeLine } from '../terminal.js'

export interface GroupsOptions extends ConnectionOptions {
  readonly json?: boolean | undefined
}

/** Every group of the namespace with the broker's own counters (`bus.inspectGroups()`). */
export async function groupsCommand(options: GroupsOptions, terminal: Terminal): Promise<void> {
  const url = resolveUrl(options, terminal.env)
  const bus = cliBus(url, options)
  try {
    const groups = await bus.inspectGroups()
    if (options.json) {
      // undefined (the broker cannot tell) becomes null, so every line has every field.
      for (const group of groups) {
        writeJson(terminal.out, {
          group: group.group,
          pending: group.pending,
          inFlight: group.inFlight ?? null,
          waitingRetries: group.waitingRetries ?? null,
          deadLetters: group.deadLetters,
          consumers: group.consumers ?? null,
        })
      }
      return
    }
    const colors = colorsFor(terminal.out, terminal.env)
    if (groups.length === 0) {
      writeLine(terminal.out, 'No groups in this namespace yet: a listener creates its group when it starts.')
      return
    }
    const rows = groups.map((group) => [
      group.group,
      group.pending,
      group.inFlight,
      group.waitingRetries,
      group.deadLetters > 0 ? colors.red(String(group.deadLetters)) : group.deadLetters,
      group.consumers,
    ])
    writeLine(
      terminal.out,
      table(['group', 'pending', 'in flight', 'waiting retries', 'dead letters', 'consumers'], rows, colors),
    )
    if (groups.some((group) => group.inFlight === undefined || group.consumers === undefined)) {
      writeLine(terminal.out, colors.dim('–: this broker does not report it.'))
    }
  } finally {
    await bus.close()
  }
}
