import Table from 'cli-table3'
import type { Colors } from './terminal.js'

/** A table for humans; `–` for what the broker cannot tell. */
export function table(
  head: readonly string[],
  rows: readonly (readonly unknown[])[],
  colors: Colors,
): string {
  const rendered = new Table({
    head: head.map((cell) => colors.bold(cell)),
    style: { head: [], border: [] }, // colours come from picocolors, which honours NO_COLOR
  })
  for (const row of rows) rendered.push(row.map(cell))
  return rendered.toString()
}

export function cell(value: unknown): string {
  if (value === undefined || value === null) return '–'
  if (typeof value === 'number') return value.toLocaleString('en-US')
  return String(value)
}

/** A payload (JSON) or a text on one line, cut to `width` characters. */
export function preview(data: unknown, width = 60): string {
  let text: string
  try {
    text = typeof data === 'string' ? data : (JSON.stringify(data) ?? 'undefined')
  } catch {
    text = String(data)
  }
  text = text.replace(/\s+/g, ' ')
  return text.length > width ? `${text.slice(0, width - 1)}…` : text
}

/** `2026-11-25T10:04:05.123Z` → `10:04:05.123` (the date is noise in a live tail). */
export function clockTime(iso: string): string {
  const match = /T(\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?)/.exec(iso)
  return match ? match[1]! : iso
}
