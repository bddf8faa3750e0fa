import { assertPattern } from './names.js'

/**
 * AMQP topic semantics (SPEC G3): words separated by dots, `*` matches exactly one word, `#` zero or
 * more. Compiled once per listener; matching is a linear walk with no regular expressions, so a
 * hostile pattern cannot cause catastrophic backtracking.
 */
export type PatternMatcher = (eventName: string) => boolean

export function compilePattern(pattern: string): PatternMatcher {
  assertPattern(pattern)
  if (pattern === '#') return () => true
  if (!pattern.includes('*') && !pattern.includes('#')) return (name) => name === pattern
  const words = pattern.split('.')
  return (name) => matchWords(words, 0, name.split('.'), 0)
}

export function compilePatterns(patterns: readonly string[]): PatternMatcher {
  const matchers = patterns.map(compilePattern)
  if (patterns.length === 1 && (patterns[0] === '#' || !/[*#]/.test(patterns[0]!))) return matchers[0]!
  return remembered(
    matchers.length === 1 ? matchers[0]! : (name) => matchers.some((matches) => matches(name)),
  )
}

const REMEMBERED_NAMES = 1024

/**
 * A service sees few distinct event names, each many times: the answer per name is kept, so a busy
 * listener splits no names. Bounded, so a publisher inventing names cannot grow it without limit.
 */
function remembered(matches: PatternMatcher): PatternMatcher {
  const answers = new Map<string, boolean>()
  return (name) => {
    let answer = answers.get(name)
    if (answer === undefined) {
      answer = matches(name)
      if (answers.size >= REMEMBERED_NAMES) answers.clear()
      answers.set(name, answer)
    }
    return answer
  }
}

export function matchesPattern(pattern: string, eventName: string): boolean {
  return compilePattern(pattern)(eventName)
}

function matchWords(pattern: readonly string[], p: number, name: readonly string[], n: number): boolean {
  // Iterative with a single backtrack point per '#': O(pattern × name) at worst.
  let starP = -1
  let starN = 0
  while (n < name.length || p < pattern.length) {
    const word = pattern[p]
    if (word === '#') {
      starP = p
      starN = n
      p += 1
      continue
    }
    if (n < name.length && (word === '*' || word === name[n])) {
      p += 1
      n += 1
      continue
    }
    if (starP >= 0 && starN < name.length) {
      starN += 1
      p = starP + 1
      n = starN
      continue
    }
    return false
  }
  return true
}
