import { JournalQueryError } from './errors.js'

/**
 * The journal's search language, parsed into a tree and compiled to SQL with parameters (never
 * text spliced into SQL):
 *
 *   type:order.*            event name, with * (one word) and # (zero or more words)
 *   id:0193… key:o-1 source:/shop
 *   group:shipping-create-shipment        events that reached the group
 *   outcome:dead | failing | handled      where they stand in some group
 *   after:2026-11-01 before:2026-11-02T10:00:00Z
 *   data.customer.email = "a@b.c"         a field of the payload equals a value (JSON: 42, true, null)
 *   data.orderId: CK*                     starts with
 *   data.status != cancelled
 *
 * Terms side by side (or with AND) must all hold; OR between them, NOT before one, and parentheses.
 */
export type Condition =
  | { readonly kind: 'and' | 'or'; readonly terms: readonly Condition[] }
  | { readonly kind: 'not'; readonly term: Condition }
  | { readonly kind: 'type'; readonly pattern: string }
  | { readonly kind: 'field'; readonly field: 'id' | 'key' | 'source'; readonly value: string }
  | { readonly kind: 'group'; readonly group: string }
  | { readonly kind: 'outcome'; readonly outcome: 'handled' | 'failing' | 'dead'; readonly group?: string }
  | { readonly kind: 'time'; readonly bound: 'after' | 'before'; readonly at: string }
  | {
      readonly kind: 'data'
      readonly path: readonly string[]
      readonly op: 'eq' | 'ne' | 'prefix'
      readonly value: unknown
    }

const OUTCOMES = new Set(['handled', 'failing', 'dead'])

export function parseQuery(query: string): Condition | undefined {
  const parser = new Parser(query)
  if (parser.atEnd()) return undefined
  const condition = parser.or()
  if (!parser.atEnd()) parser.fail('AND, OR, or the end of the query')
  return condition
}

class Parser {
  private position = 0

  constructor(private readonly query: string) {}

  atEnd(): boolean {
    this.skipSpace()
    return this.position >= this.query.length
  }

  fail(expected: string): never {
    throw new JournalQueryError(this.query, this.position, `expected ${expected}`)
  }

  or(): Condition {
    const terms = [this.and()]
    while (this.keyword('OR')) terms.push(this.and())
    return terms.length === 1 ? terms[0]! : { kind: 'or', terms }
  }

  private and(): Condition {
    const terms = [this.unary()]
    for (;;) {
      if (this.keyword('AND')) {
        terms.push(this.unary())
        continue
      }
      this.skipSpace()
      const next = this.query[this.position]
      if (next === undefined || next === ')' || this.peekKeyword('OR')) break
      terms.push(this.unary()) // side by side: AND
    }
    return terms.length === 1 ? terms[0]! : { kind: 'and', terms }
  }

  private unary(): Condition {
    if (this.keyword('NOT')) return { kind: 'not', term: this.unary() }
    this.skipSpace()
    if (this.query[this.position] === '(') {
      this.position += 1
      const inner = this.or()
      this.skipSpace()
      if (this.query[this.position] !== ')') this.fail('")" to close the parenthesis')
      this.position += 1
      return inner
    }
    return this.term()
  }

  private term(): Condition {
    this.skipSpace()
    const start = this.position
    const match = /^[A-Za-z_][\w.-]*/.exec(this.query.slice(this.position))
    if (!match) this.fail('a term such as type:order.* or data.orderId = "o-1"')
    const field = match[0]
    this.position += field.length
    this.skipSpace()
    const op = this.operator()
    const value = this.value()
    if (field.startsWith('data.')) {
      const path = field.slice(5).split('.')
      if (path.some((segment) => segment === '')) {
        this.position = start
        this.fail('a field path such as data.customer.email')
      }
      if (op === '!=') return { kind: 'data', path, op: 'ne', value: typed(value) }
      if (op === ':' && !value.quoted && value.text.endsWith('*')) {
        return { kind: 'data', path, op: 'prefix', value: value.text.slice(0, -1) }
      }
      return { kind: 'data', path, op: 'eq', value: value.quoted ? value.text : typed(value) }
    }
    if (op === '!=') {
      this.position = start
      this.fail(`":" after ${field} (!= works on data fields only)`)
    }
    switch (field) {
      case 'type':
        if (!/^[\w.*#-]+$/.test(value.text))
          this.fail('an event name or pattern such as order.* or payment.#')
        return { kind: 'type', pattern: value.text }
      case 'id':
      case 'key':
      case 'source':
        return { kind: 'field', field, value: value.text }
      case 'group':
        return { kind: 'group', group: value.text }
      case 'outcome':
        if (!OUTCOMES.has(value.text)) this.fail('outcome:handled, outcome:failing or outcome:dead')
        return { kind: 'outcome', outcome: value.text as 'handled' | 'failing' | 'dead' }
      case 'after':
      case 'before':
        if (Number.isNaN(Date.parse(value.text)))
          this.fail('a date or time such as 2026-11-25 or 2026-11-25T10:00:00Z')
        return { kind: 'time', bound: field, at: new Date(value.text).toISOString() }
      default:
        this.position = start
        this.fail('type, id, key, source, group, outcome, after, before or data.<field>')
    }
  }

  private operator(): ':' | '=' | '!=' {
    this.skipSpace()
    for (const op of ['!=', ':', '='] as const) {
      if (this.query.startsWith(op, this.position)) {
        this.position += op.length
        return op
      }
    }
    this.fail('":", "=" or "!=" after the field')
  }

  private value(): { text: string; quoted: boolean } {
    this.skipSpace()
    if (this.query[this.position] === '"') {
      let text = ''
      this.position += 1
      for (;;) {
        const char = this.query[this.position]
        if (char === undefined) this.fail('a closing " for the quoted value')
        this.position += 1
        if (char === '"') return { text, quoted: true }
        if (char === '\\') {
          const escaped = this.query[this.position]
          if (escaped === undefined) this.fail('a character after \\')
          text += escaped
          this.position += 1
        } else text += char
      }
    }
    const match = /^[^\s()"]+/.exec(this.query.slice(this.position))
    if (!match) this.fail('a value (quote it with "…" if it has spaces)')
    this.position += match[0].length
    return { text: match[0], quoted: false }
  }

  private keyword(word: string): boolean {
    if (!this.peekKeyword(word)) return false
    this.position += word.length
    return true
  }

  private peekKeyword(word: string): boolean {
    this.skipSpace()
    const after = this.query[this.position + word.length]
    return this.query.startsWith(word, this.position) && (after === undefined || /[\s(]/.test(after))
  }

  private skipSpace(): void {
    while (this.position < this.query.length && /\s/.test(this.query[this.position]!)) this.position += 1
  }
}

/** A bare value as JSON where it is one (42, true, null), else text. */
function typed(value: { text: string; quoted: boolean }): unknown {
  if (value.quoted) return value.text
  if (/^-?\d+(\.\d+)?$/.test(value.text)) return Number(value.text)
  if (value.text === 'true') return true
  if (value.text === 'false') return false
  if (value.text === 'null') return null
  return value.text
}

/** SQL (a WHERE fragment over `e`, the events table) and its parameters. */
export function compileCondition(condition: Condition, schema: string, params: unknown[]): string {
  const param = (value: unknown): string => {
    params.push(value)
    return `$${params.length}`
  }
  const compile = (node: Condition): string => {
    switch (node.kind) {
      case 'and':
      case 'or':
        return `(${node.terms.map(compile).join(node.kind === 'and' ? ' AND ' : ' OR ')})`
      case 'not':
        return `NOT (${compile(node.term)})`
      case 'type':
        return node.pattern.includes('*') || node.pattern.includes('#')
          ? `e.type ~ ${param(patternRegex(node.pattern))}`
          : `e.type = ${param(node.pattern)}`
      case 'field':
        return `e.${node.field} = ${param(node.value)}`
      case 'group':
        return `EXISTS (SELECT 1 FROM ${schema}.deliveries d WHERE d.event_id = e.id AND d.group_name = ${param(node.group)})`
      case 'outcome':
        return `EXISTS (SELECT 1 FROM ${schema}.deliveries d WHERE d.event_id = e.id AND d.outcome = ${param(node.outcome)}${
          node.group === undefined ? '' : ` AND d.group_name = ${param(node.group)}`
        })`
      case 'time':
        return `e.time ${node.bound === 'after' ? '>=' : '<'} ${param(node.at)}::timestamptz`
      case 'data':
        if (node.op === 'prefix') {
          return `(e.data #>> ${param(node.path)}) LIKE ${param(`${escapeLike(String(node.value))}%`)}`
        }
        // Containment uses the GIN index: {"customer":{"email":"a@b.c"}}.
        return `${node.op === 'ne' ? 'NOT ' : ''}(e.data @> ${param(JSON.stringify(nest(node.path, node.value)))}::jsonb)`
    }
  }
  return compile(condition)
}

function nest(path: readonly string[], value: unknown): unknown {
  return path.reduceRight<unknown>((inner, segment) => ({ [segment]: inner }), value)
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (char) => `\\${char}`)
}

/** SPEC G3 patterns as a POSIX regular expression: * one word, # zero or more words. */
export function patternRegex(pattern: string): string {
  const words = pattern.split('.')
  let regex = ''
  words.forEach((word, index) => {
    const dot = index === 0 ? '' : '\\.'
    if (word === '#') regex += index === 0 ? '([^.]+(\\.[^.]+)*)?' : '(\\.[^.]+)*'
    else if (word === '*') regex += `${dot}[^.]+`
    else regex += `${dot}${word.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&')}`
  })
  // "#" first and more words after: the words after it need their own leading dot, handled above;
  // a leading "#" followed by a word must allow zero words before the dot-less word.
  return `^${regex.replace(/^\(\[\^\.\]\+\(\\\.\[\^\.\]\+\)\*\)\?\\\./, '([^.]+\\.)*')}$`
}
