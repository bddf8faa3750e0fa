import { describe, expect, it } from 'vitest'
import { serverFilter, subjectsOverlap } from '../src/filters.js'
import { supportsFilterSubjects } from '../src/nats-transport.js'

const prefix = 'ns.events'

describe('nats server-side filters for listener patterns', () => {
  it('gives NATS exactly the patterns it can express: names, "*", a trailing "#", and "#" alone', () => {
    expect(serverFilter(prefix, ['order.placed'], false)).toEqual({
      subjects: ['ns.events.order.placed'],
      exact: true,
    })
    expect(serverFilter(prefix, ['order.*'], false)).toEqual({ subjects: ['ns.events.order.*'], exact: true })
    expect(serverFilter(prefix, ['#'], false)).toEqual({ subjects: ['ns.events.>'], exact: true })
    expect(serverFilter(prefix, ['order.#'], true)).toEqual({
      subjects: ['ns.events.order', 'ns.events.order.>'],
      exact: true,
    })
  })

  it('on 2.9 (one filter per consumer) takes every event when the patterns need more than one subject; core filters exactly', () => {
    expect(serverFilter(prefix, ['order.#'], false)).toEqual({ subjects: ['ns.events.>'], exact: false })
    expect(serverFilter(prefix, ['order.placed', 'order.paid'], false)).toEqual({
      subjects: ['ns.events.>'],
      exact: false,
    })
  })

  it('on 2.10+ uses filter_subjects for several patterns, unless they overlap (the server refuses overlaps)', () => {
    expect(serverFilter(prefix, ['order.placed', 'payment.*'], true)).toEqual({
      subjects: ['ns.events.order.placed', 'ns.events.payment.*'],
      exact: true,
    })
    expect(serverFilter(prefix, ['order.*', 'order.placed'], true)).toEqual({
      subjects: ['ns.events.>'],
      exact: false,
    })
  })

  it('takes every event for a "#" NATS cannot place ("#.done", "a.#.b")', () => {
    expect(serverFilter(prefix, ['#.done'], true).exact).toBe(false)
    expect(serverFilter(prefix, ['a.#.b'], true).exact).toBe(false)
    expect(serverFilter(prefix, ['a.#', '#'], true)).toEqual({ subjects: ['ns.events.>'], exact: true })
  })

  it('knows when two subjects share a match', () => {
    expect(subjectsOverlap('a.*', 'a.b')).toBe(true)
    expect(subjectsOverlap('a.>', 'a')).toBe(false)
    expect(subjectsOverlap('a.>', 'a.b.c')).toBe(true)
    expect(subjectsOverlap('a.b', 'a.c')).toBe(false)
    expect(subjectsOverlap('a.*.c', 'a.b.*')).toBe(true)
    expect(subjectsOverlap('a.b', 'a.b.c')).toBe(false)
  })

  it('reads filter_subjects support from the server version', () => {
    expect(supportsFilterSubjects('2.9.10')).toBe(false)
    expect(supportsFilterSubjects('2.10.0')).toBe(true)
    expect(supportsFilterSubjects('2.11.3')).toBe(true)
    expect(supportsFilterSubjects('3.0.0')).toBe(true)
    expect(supportsFilterSubjects(undefined)).toBe(false)
  })
})
