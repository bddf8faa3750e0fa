/**
 * Which subjects a group's consumer asks the server for. Tidings patterns (`*` one word, `#` zero or
 * more) are richer than NATS subjects (`*` one token, `>` one or more, last token only), so the
 * server filter may be coarser than the listener's patterns; core filters exactly and acknowledges
 * what does not match, so G3 holds either way. The cost of a coarse filter is network and an ack
 * per foreign event (see the benchmark).
 */
export interface ServerFilter {
  /** Subjects for the consumer: one (`filter_subject`) or several (`filter_subjects`, server 2.10+). */
  readonly subjects: readonly string[]
  /** True when the subjects select exactly the events the patterns match. */
  readonly exact: boolean
}

/**
 * @param eventPrefix `<ns>.events`
 * @param multipleFilters the server accepts `filter_subjects` (2.10 and later)
 */
export function serverFilter(
  eventPrefix: string,
  patterns: readonly string[],
  multipleFilters: boolean,
): ServerFilter {
  const everything: ServerFilter = { subjects: [`${eventPrefix}.>`], exact: false }
  const subjects: string[] = []
  for (const pattern of patterns) {
    const expressed = subjectsFor(eventPrefix, pattern)
    if (expressed === undefined) return everything
    subjects.push(...expressed)
  }
  const unique = [...new Set(subjects)]
  if (unique.includes(`${eventPrefix}.>`)) return { subjects: [`${eventPrefix}.>`], exact: true }
  if (unique.length === 1) return { subjects: unique, exact: true }
  // The server refuses overlapping filter subjects; such pattern sets are rare, filter them coarsely.
  if (!multipleFilters || hasOverlap(unique)) return everything
  return { subjects: unique, exact: true }
}

/** NATS subjects matching exactly what the pattern matches, or undefined when NATS cannot say it. */
function subjectsFor(eventPrefix: string, pattern: string): string[] | undefined {
  if (pattern === '#') return [`${eventPrefix}.>`]
  const words = pattern.split('.')
  const hashes = words.filter((word) => word === '#').length
  if (hashes === 0) return [`${eventPrefix}.${pattern}`]
  if (hashes > 1 || words.at(-1) !== '#') return undefined
  // `order.#` is `order` itself and `order.>`.
  const prefix = words.slice(0, -1).join('.')
  return [`${eventPrefix}.${prefix}`, `${eventPrefix}.${prefix}.>`]
}

function hasOverlap(subjects: readonly string[]): boolean {
  for (let i = 0; i < subjects.length; i += 1) {
    for (let j = i + 1; j < subjects.length; j += 1) {
      if (subjectsOverlap(subjects[i]!, subjects[j]!)) return true
    }
  }
  return false
}

/** Whether some subject matches both filters. */
export function subjectsOverlap(a: string, b: string): boolean {
  const left = a.split('.')
  const right = b.split('.')
  for (let index = 0; ; index += 1) {
    const x = left[index]
    const y = right[index]
    if (x === '>' || y === '>') return x !== undefined && y !== undefined
    if (x === undefined || y === undefined) return x === y
    if (x !== '*' && y !== '*' && x !== y) return false
  }
}
