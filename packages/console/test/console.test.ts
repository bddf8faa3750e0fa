import { createBus, fixed, silentLogger } from '@tidings/core'
import { createJournal, pgliteJournalStore } from '@tidings/journal'
import { type Browser, chromium, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createConsole } from '../src/index.js'

const TOKEN = 'test-token-0123456789'
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]
const SCRIPT = '<script>window.__pwned = 1</script>'
const IMAGE = '<img src=x onerror="window.__pwned = 2">'

describe('the web console in a browser', () => {
  const journal = createJournal({ store: pgliteJournalStore(), flushIntervalMs: 5, logger: silentLogger })
  const bus = createBus({
    service: 'shop',
    url: `memory://console-${Math.random()}`,
    logger: silentLogger,
    journal,
  })
  let shippingWorks = false
  let browser: Browser
  let page: Page
  let url = ''
  let readOnlyUrl = ''
  const servers: { close(): Promise<void> }[] = []
  const ids = { good: '', poison: '', other: '' }

  beforeAll(async () => {
    bus.listen('order.placed', () => {}, { name: 'audit' })
    bus.listen(
      'order.placed',
      (event) => {
        const data = event.data as { address: string | null }
        if (!data.address && !shippingWorks) throw new Error(`no address ${IMAGE}`)
      },
      { name: 'shipping', retry: { maxAttempts: 2, backoff: fixed(5) } },
    )
    await bus.start()
    ids.good = (await bus.publish('order.placed', { orderId: 'CK-1', address: '1 Harbour St' })).id
    ids.poison = (await bus.publish('order.placed', { orderId: 'CK-2', address: null, note: SCRIPT })).id
    ids.other = (await bus.publish('order.placed', { orderId: 'XX-3', address: 'x' })).id
    const deadline = Date.now() + 10_000
    while ((await bus.deadLetters('shop-shipping').count()) < 1 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    await journal.flush()
    const served = await createConsole({ journal, bus, accessToken: TOKEN }).listen()
    const readOnly = await createConsole({ journal, bus, readOnly: true }).listen()
    servers.push(served, readOnly)
    url = served.url
    readOnlyUrl = readOnly.url
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_FLAGS })
    page = await browser.newPage()
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    await Promise.all(servers.map((server) => server.close()))
    await bus.close()
  })

  it('searches by a data field and shows the matching events, newest first', async () => {
    await page.goto(`${url}/`)
    await page.fill('input[name=q]', 'data.orderId: CK*')
    await page.click('button[type=submit]')
    const rows = page.locator('#results tbody tr')
    await expect.poll(() => rows.count()).toBe(2)
    expect(await rows.nth(0).innerText()).toContain(ids.poison)
    expect(await rows.nth(0).innerText()).toContain('shop-shipping: dead')
    expect(await rows.nth(1).innerText()).toContain(ids.good)
    await page.fill('input[name=q]', 'type:order.* AND (')
    await page.click('button[type=submit]')
    expect(await page.locator('[role=alert]').innerText()).toContain('Cannot read the journal query')
  })

  it("shows an event's payload and each group's attempts as text, never running what they contain", async () => {
    await page.goto(`${url}/events/${ids.poison}`)
    expect(await page.locator('#payload').innerText()).toContain(SCRIPT)
    const shipping = page.locator('section[data-group="shop-shipping"]')
    const text = await shipping.innerText()
    expect(text).toContain('dead')
    expect(text).toMatch(/failed[\s\S]*Error: no address <img src=x onerror="window.__pwned = 2">/)
    expect(text).toContain('in 5 ms') // the retry that was scheduled
    expect(text).toMatch(/dead-lettered: exhausted/)
    expect(await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned)).toBeUndefined()
    // Without the token: no buttons, and the endpoint refuses.
    expect(await page.locator('button', { hasText: 'Replay to this group' }).count()).toBe(0)
    const refused = await page.request.post(`${url}/events/${ids.poison}/replay`, {
      form: { group: 'shop-shipping' },
    })
    expect(refused.status()).toBe(401)
  })

  it('replays an event to one group after signing in, and the trace shows the new attempt chain', async () => {
    await page.goto(`${url}/login`)
    await page.fill('input[name=token]', 'wrong-token-000000')
    await page.click('button[type=submit]')
    expect(await page.locator('[role=alert]').innerText()).toContain('not the access token')
    await page.fill('input[name=token]', TOKEN)
    await page.click('button[type=submit]')
    shippingWorks = true
    await page.goto(`${url}/events/${ids.poison}`)
    await page
      .locator('section[data-group="shop-shipping"] button', { hasText: 'Replay to this group' })
      .click()
    expect(await page.locator('[role=status]').innerText()).toContain(
      'Sent again to shop-shipping as attempt 1',
    )
    await expect
      .poll(async () => {
        await journal.flush()
        const trace = await journal.trace(ids.poison)
        return trace?.groups.find((group) => group.group === 'shop-shipping')?.outcome
      })
      .toBe('handled')
    await page.reload()
    const shipping = await page.locator('section[data-group="shop-shipping"]').innerText()
    expect(shipping).toMatch(/replayed[\s\S]*handled/)
    // The other group was not sent anything.
    const audit = await journal.trace(ids.poison)
    expect(
      audit!.groups.find((group) => group.group === 'shop-audit')!.steps.map((step) => step.kind),
    ).toEqual(['handled'])
  })

  it("lists a group's dead letters and purges them only when the group name is typed", async () => {
    await page.goto(`${url}/groups/shop-shipping/dead-letters`)
    const rows = page.locator('#dead-letters tbody tr')
    expect(await rows.count()).toBe(1)
    expect(await rows.first().innerText()).toContain(ids.poison)
    await page.fill('input[name=confirm]', 'shop-audit')
    await page.click('button:has-text("Purge")')
    expect(await page.locator('[role=status]').innerText()).toContain('Nothing purged')
    await page.fill('input[name=confirm]', 'shop-shipping')
    await page.click('button:has-text("Purge")')
    expect(await page.locator('[role=status]').innerText()).toContain(
      'Purged 1 dead letters of shop-shipping',
    )
    expect(await bus.deadLetters('shop-shipping').count()).toBe(0)
  })

  it('in read-only mode shows everything and changes nothing', async () => {
    const reader = await browser.newPage()
    await reader.goto(`${readOnlyUrl}/events/${ids.good}`)
    expect(await reader.locator('#payload').innerText()).toContain('1 Harbour St')
    expect(await reader.locator('form[method=post]').count()).toBe(0)
    const refused = await reader.request.post(`${readOnlyUrl}/events/${ids.good}/replay`, {
      form: { group: 'shop-audit' },
      headers: { authorization: `Bearer ${TOKEN}` },
    })
    expect(refused.status()).toBe(403)
    const html = await (await reader.request.get(`${readOnlyUrl}/`)).text()
    expect(html).not.toMatch(/memory:|postgres:|pglite/i) // nothing of the broker or the database
    await reader.close()
  })

  it('refuses to start without an access token unless read-only', () => {
    expect(() => createConsole({ journal, bus })).toThrow(/accessToken .*or readOnly: true/)
    expect(() => createConsole({ journal, bus, accessToken: 'short' })).toThrow(/at least 12/)
  })
})
