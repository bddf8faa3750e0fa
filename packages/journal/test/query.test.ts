import { matchesPattern } from '@tidings/core'
import { describe, expect, it } from 'vitest'
import { JournalQueryError, parseQuery } from '../src/index.js'
import { patternRegex } from '../src/query.js'

describe('the journal query language', () => {
  it('reads terms side by side as AND, with OR, NOT and parentheses', () => {
    expect(
      parseQuery('type:order.* data.customer.email = "a b@c.d" OR (outcome:dead AND NOT group:x)'),
    ).toEqual({
      kind: 'or',
      terms: [
        {
          kind: 'and',
          terms: [
            { kind: 'type', pattern: 'order.*' },
            { kind: 'data', path: ['customer', 'email'], op: 'eq', value: 'a b@c.d' },
          ],
        },
        {
          kind: 'and',
          terms: [
            { kind: 'outcome', outcome: 'dead' },
            { kind: 'not', term: { kind: 'group', group: 'x' } },
          ],
        },
      ],
    })
  })

  it('reads data.x: CK* as a prefix, bare numbers and booleans as JSON, quoted ones as text', () => {
    expect(parseQuery('data.orderId: CK*')).toEqual({
      kind: 'data',
      path: ['orderId'],
      op: 'prefix',
      value: 'CK',
    })
    expect(parseQuery('data.amount = 42')).toMatchObject({ value: 42 })
    expect(parseQuery('data.amount = "42"')).toMatchObject({ value: '42' })
    expect(parseQuery('data.paid != true')).toMatchObject({ op: 'ne', value: true })
    expect(parseQuery('   ')).toBeUndefined()
  })

  it('says where a query goes wrong and what it expected', () => {
    const cases: [string, RegExp][] = [
      ['type:order.* AND', /character 17.*expected a term/],
      ['colour:red', /expected type, id, key, source, group, outcome, after, before or data/],
      ['outcome:lost', /outcome:handled, outcome:failing or outcome:dead/],
      ['data.name = "open', /closing "/],
      ['(type:a', /"\)" to close/],
      ['after:yesterday', /a date or time/],
      ['type != a', /works on data fields only/],
    ]
    for (const [query, message] of cases) {
      expect(() => parseQuery(query), query).toThrow(JournalQueryError)
      expect(() => parseQuery(query), query).toThrow(message)
    }
  })

  it('matches event names as core does, for * and # anywhere', () => {
    const patterns = ['order.*', 'order.#', '#', '#.done', '*.placed', 'a.#.z', 'order.placed', '#.b.#']
    const names = [
      'order',
      'order.placed',
      'order.placed.eu',
      'a.z',
      'a.b.z',
      'a.b.c.z',
      'x.done',
      'done',
      'b',
      'a.b.c',
    ]
    for (const pattern of patterns) {
      const regex = new RegExp(patternRegex(pattern))
      for (const name of names) {
        expect(regex.test(name), `${pattern} vs ${name}`).toBe(matchesPattern(pattern, name))
      }
    }
  })
})
