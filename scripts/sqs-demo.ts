/**
 * `npm run demo:sqs`: the shop demo (`npm run demo`, the same as `tidings demo`) on the SQS/SNS
 * transport, against the fauxqs emulator started in this process on a free port. No AWS account is
 * needed: the SDK gets dummy credentials unless the environment already has some, and the emulator
 * stops when the demo ends.
 */
import { runCli } from '@tidings/cli'

const { startFauxqs } = await import('fauxqs')
const server = await startFauxqs({ port: 0, logger: false, host: '127.0.0.1' })
process.env.TIDINGS_URL = `sqs://us-east-1?endpoint=http://127.0.0.1:${server.port}`
process.env.AWS_ACCESS_KEY_ID ??= 'test'
process.env.AWS_SECRET_ACCESS_KEY ??= 'test'

let code = 1
try {
  // examples/shop/demo.ts does this and then exits at once; here the emulator is stopped first.
  code = await runCli(['demo'])
} finally {
  await server.stop()
}
process.exit(code)
