import type { JournalStats } from '@tidings/journal'
import { describe, expect, it } from 'vitest'
import { type PageContext, searchPage } from '../src/pages.js'

const context: PageContext = { title: 'Events', base: '', canChange: false, readOnly: true, signedIn: false }
const stats = (changes: Partial<JournalStats>): JournalStats => ({
  written: 10,
  dropped: 0,
  rejected: 0,
  shed: 0,
  saturated: false,
  buffered: 0,
  lastError: undefined,
  ...changes,
})
const render = (recording: JournalStats) => String(searchPage(context, '', [], undefined, recording))

describe('the search page', () => {
  it('says nothing of gaps when the journal left nothing out', () => {
    expect(render(stats({}))).not.toContain('class="gaps"')
  })

  it('says how many routine records were shed while the process was saturated, and that it is now', () => {
    const page = render(stats({ shed: 12_345, saturated: true }))
    expect(page).toContain('left out 12,345 routine records')
    expect(page).toContain('as it is now')
    expect(page).toContain('failures, retries and dead letters were kept while saturated')
  })

  it('says how many records were dropped or refused, without claiming failures were kept', () => {
    const page = render(stats({ dropped: 7, rejected: 2 }))
    expect(page).toContain('dropped 7 records its store could not take in time')
    expect(page).toContain('left out 2 records the store refused')
    expect(page).not.toContain('were kept while saturated')
  })
})
