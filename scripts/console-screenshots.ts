/**
 * Regenerates the console screenshots in docs/images (npm run docs:screenshots): the shop demo runs on
 * the in-memory transport, observed by an in-memory PGlite journal; the console serves that journal and
 * Debian's Chromium (playwright-core, as in the console's browser tests) takes the pictures.
 */
import { randomBytes } from 'node:crypto'
import { mkdir } from 'node:fs/promises'
import { dirname, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { runShopScenario } from '@tidings/cli/demo'
import { createConsole } from '@tidings/console'
import { createBus, silentLogger } from '@tidings/core'
import { createJournal, pgliteJournalStore } from '@tidings/journal'
import { chromium } from 'playwright-core'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const IMAGES = resolve(ROOT, 'docs/images')
const SEARCH_PNG = resolve(IMAGES, 'console-search.png')
const TRACE_PNG = resolve(IMAGES, 'console-trace.png')
const URL = 'memory://console-screenshots'
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

const journal = createJournal({ store: pgliteJournalStore(), flushIntervalMs: 5, logger: silentLogger })
await runShopScenario({ url: URL, observe: (bus) => journal.attach(bus) })
await journal.flush()

const poison = (await journal.search({ query: 'type:payment.captured AND data.orderId = "o-1002"' }))
  .events[0]
if (!poison) throw new Error('The shop scenario left no payment.captured event for o-1002 in the journal.')

const bus = createBus({ service: 'console', url: URL, logger: silentLogger })
const accessToken = randomBytes(18).toString('base64url')
const served = await createConsole({ journal, bus, accessToken }).listen()
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_FLAGS })
try {
  const page = await browser.newPage({ viewport: { width: 1200, height: 800 }, deviceScaleFactor: 1 })
  // Signed in, so the event page shows its replay buttons.
  await page.goto(`${served.url}/login`)
  await page.fill('input[name=token]', accessToken)
  await page.click('button[type=submit]')
  await page.waitForURL(`${served.url}/`)

  await mkdir(IMAGES, { recursive: true })
  await page.fill('input[name=q]', 'type:payment.captured')
  await page.click('button[type=submit]')
  await page.locator('#results tbody tr').nth(1).waitFor()
  // Two results: a short viewport, grown to the page's height, leaves no empty half picture.
  await page.setViewportSize({ width: 1200, height: 360 })
  await page.screenshot({ path: SEARCH_PNG, fullPage: true })
  await page.setViewportSize({ width: 1200, height: 800 })

  await page.goto(`${served.url}/events/${encodeURIComponent(poison.event.id)}`)
  await page.locator('section[data-group="shipping-create-shipment"]').waitFor()
  await page.screenshot({ path: TRACE_PNG, fullPage: true })
} finally {
  await browser.close()
  await served.close()
  await bus.close()
  await journal.close()
}
console.log(relative(ROOT, SEARCH_PNG))
console.log(relative(ROOT, TRACE_PNG))
