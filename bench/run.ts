/**
 * `npm run bench -- <transport>`: runs one transport's benchmark (memory, amqp, redis, nats, sqs, journal), or all.
 */
const benches: Record<string, () => Promise<unknown>> = {
  memory: () => import('./memory.js'),
  amqp: () => import('./amqp.js'),
  redis: () => import('./redis.js'),
  nats: () => import('./nats.js'),
  journal: () => import('./journal.js'),
  sqs: () => import('./sqs.js'),
}

const requested = process.argv.slice(2).filter((argument) => !argument.startsWith('-'))
const names = requested.length > 0 ? requested : Object.keys(benches)
for (const name of names) {
  const load = benches[name]
  if (!load) {
    console.error(`Unknown benchmark "${name}": choose one of ${Object.keys(benches).join(', ')}.`)
    process.exit(2)
  }
}
for (const name of names) {
  const module = (await benches[name]!()) as { main(): Promise<void> }
  await module.main()
}
