/**
 * `npm run demo`: the shop scenario on the memory transport, or on a broker with TIDINGS_URL
 * (amqp://…, redis://…, nats://…). The same as `tidings demo` from @tidings/cli, options included:
 * `npm run demo -- --journal` records it in an embedded journal and serves the web console.
 */
import { runCli } from '@tidings/cli'

process.exit(await runCli(['demo', ...process.argv.slice(2)]))
