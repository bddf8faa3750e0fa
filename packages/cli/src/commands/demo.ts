import { redactUrl } from '@tidings/core'
import { resolveUrl } from '../connection.js'
import { runShopScenario } from '../demo/shop-scenario.js'
import { CommandError } from '../errors.js'
import { type Terminal, writeLine } from '../terminal.js'

/**
 * The shop: order placed → payment captured → shipment created, one carrier timeout retried, one
 * poison order dead-lettered with its history. In memory unless TIDINGS_URL (or --url) names a
 * broker; on a broker it runs in its own namespace, `tidingsdemo`.
 */
export async function demoCommand(
  options: { readonly url?: string | undefined },
  terminal: Terminal,
): Promise<void> {
  const url = resolveUrl(options, terminal.env, 'memory://')
  writeLine(terminal.out, `Tidings shop demo on ${redactUrl(url)}\n`)
  const result = await runShopScenario({ url, print: (line) => writeLine(terminal.out, line) })
  writeLine(terminal.out, `\nDead letters in group shipping-create-shipment: ${result.deadLetters.length}`)
  for (const letter of result.deadLetters) {
    writeLine(
      terminal.out,
      `  event ${letter.id} (${letter.event?.type}) ${JSON.stringify(letter.event?.data)}`,
    )
    writeLine(terminal.out, `  reason: ${letter.reason}`)
    for (const failure of letter.history) {
      writeLine(
        terminal.out,
        `    attempt ${failure.attempt} at ${failure.at}: ${failure.error.name}: ${failure.error.message}`,
      )
    }
  }
  writeLine(terminal.out, `\nShipped: ${result.shipped.join(', ') || 'nothing'}; retries: ${result.retries}.`)
  if (result.shipped.length !== 1 || result.deadLetters.length !== 1) {
    throw new CommandError('The demo did not end as expected (one order shipped, one dead letter).')
  }
}
