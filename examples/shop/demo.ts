/**
 * `npm run demo`: the shop scenario on the memory transport, or on a broker with TIDINGS_URL
 * (amqp://…, redis://…, nats://…). The same as `tidings demo` from @tidings/cli.
 */
import { runCli } from '@tidings/cli'

process.exit(await runCli(['demo']))
