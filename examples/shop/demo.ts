/**
 * `npm run demo`: the shop scenario on the memory transport, or on a broker with TIDINGS_URL
 * (amqp://…, redis://…).
 */
import { ConfigError, configuredTransportUrl, parseTransportUrl, redactUrl } from '@tidings/core'
import { runShopScenario } from './shop-scenario.js'

// An empty TIDINGS_URL (as .env files and CI templates often leave it) counts as unset.
const url = configuredTransportUrl() ?? 'memory://'
try {
  parseTransportUrl(url)
} catch (error) {
  if (!(error instanceof ConfigError)) throw error
  console.error(`TIDINGS_URL: ${error.message}`)
  process.exit(2)
}
console.log(`Tidings shop demo on ${redactUrl(url)}\n`)
const result = await runShopScenario({ url, print: (line) => console.log(line) })

console.log(`\nDead letters in group shipping-create-shipment: ${result.deadLetters.length}`)
for (const letter of result.deadLetters) {
  console.log(`  event ${letter.id} (${letter.event?.type}) ${JSON.stringify(letter.event?.data)}`)
  console.log(`  reason: ${letter.reason}`)
  for (const failure of letter.history) {
    console.log(
      `    attempt ${failure.attempt} at ${failure.at}: ${failure.error.name}: ${failure.error.message}`,
    )
  }
}
console.log(`\nShipped: ${result.shipped.join(', ') || 'nothing'}; retries: ${result.retries}.`)
const ok = result.shipped.length === 1 && result.deadLetters.length === 1
process.exit(ok ? 0 : 1)
