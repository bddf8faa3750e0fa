import { ConfigError, matchesPattern } from '@tidings/core'
import { describe, expect, it } from 'vitest'
import { compilePattern, compilePatterns } from '../src/patterns/patterns.js'

describe('patterns (G3, AMQP topic semantics)', () => {
  const table: [string, string, boolean][] = [
    ['order.placed', 'order.placed', true],
    ['order.placed', 'order.placed.v2', false],
    ['order.*', 'order.placed', true],
    ['order.*', 'order', false],
    ['order.*', 'order.placed.v2', false],
    ['*.placed', 'order.placed', true],
    ['*', 'order', true],
    ['*', 'order.placed', false],
    ['#', 'anything.at.all', true],
    ['#', 'one', true],
    ['order.#', 'order', true],
    ['order.#', 'order.placed.v2', true],
    ['order.#', 'orders.placed', false],
    ['#.done', 'done', true],
    ['#.done', 'payment.purchase.done', true],
    ['#.done', 'payment.done.not', false],
    ['payment.#.done', 'payment.done', true],
    ['payment.#.done', 'payment.a.b.c.done', true],
    ['payment.#.done', 'payment.a.b.c', false],
    ['a.*.#.z', 'a.b.z', true],
    ['a.*.#.z', 'a.z', false],
    ['#.#', 'a', true],
    ['*.#.*', 'a', false],
    ['*.#.*', 'a.b', true],
  ]
  it.each(table)('"%s" against "%s" → %s', (pattern, name, expected) => {
    expect(matchesPattern(pattern, name)).toBe(expected)
  })

  it('matches a union of patterns', () => {
    const matches = compilePatterns(['order.placed', 'payment.#'])
    expect(matches('order.placed')).toBe(true)
    expect(matches('payment.x.y')).toBe(true)
    expect(matches('order.shipped')).toBe(false)
  })

  it('answers the same for a name seen before, also past the bound of remembered names', () => {
    const matches = compilePatterns(['order.*'])
    for (let round = 0; round < 2; round += 1) {
      expect(matches('order.placed')).toBe(true)
      expect(matches('order.placed.late')).toBe(false)
      for (let i = 0; i < 1500; i += 1) expect(matches(`order.n${i}`)).toBe(true)
      expect(matches('payment.done')).toBe(false)
    }
  })

  it('stays linear on hostile patterns', () => {
    const pattern = Array.from({ length: 40 }, () => '#').join('.') + '.x'
    const name = Array.from({ length: 150 }, () => 'a').join('.')
    const started = performance.now()
    expect(compilePattern(pattern)(name)).toBe(false)
    expect(performance.now() - started).toBeLessThan(1000)
  })

  it.each(['', 'Order.placed', 'order..placed', 'order.pl*ced', 'order.##', 'order placed'])(
    'rejects the pattern %j with ConfigError',
    (pattern) => {
      expect(() => compilePattern(pattern)).toThrow(ConfigError)
    },
  )
})
