import { createColors } from 'picocolors'

/**
 * What the process writes to, and how: colour only on a TTY and never with NO_COLOR (or
 * FORCE_COLOR=0), as https://no-color.org asks. Tests pass their own streams.
 */
export interface Terminal {
  readonly out: NodeJS.WritableStream & { isTTY?: boolean }
  readonly err: NodeJS.WritableStream & { isTTY?: boolean }
  readonly in: NodeJS.ReadableStream & { isTTY?: boolean }
  readonly env: NodeJS.ProcessEnv
}

export type Colors = ReturnType<typeof createColors>

export function colorsFor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): Colors {
  const disabled = (env.NO_COLOR !== undefined && env.NO_COLOR !== '') || env.FORCE_COLOR === '0'
  return createColors(!disabled && stream.isTTY === true)
}

export function writeLine(stream: NodeJS.WritableStream, line = ''): void {
  stream.write(`${line}\n`)
}

/** One line of JSON (NDJSON), for `--json`. */
export function writeJson(stream: NodeJS.WritableStream, value: unknown): void {
  stream.write(`${JSON.stringify(value)}\n`)
}
