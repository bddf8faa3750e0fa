import { connect } from 'node:net'

/**
 * Vitest globalSetup helpers: an adapter's tests must never "pass" without their broker. Each
 * project checks its broker once and fails the whole run with a message naming it and the command
 * that starts it.
 */
export const BROKERS = {
  rabbitmq: {
    name: 'RabbitMQ',
    url: process.env.TIDINGS_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672',
    start: 'rabbitmq-server -detached && rabbitmqctl await_startup',
  },
  redis: {
    name: 'Redis',
    url: process.env.TIDINGS_REDIS_URL ?? 'redis://127.0.0.1:6379',
    start:
      'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log',
  },
  nats: {
    name: 'NATS (JetStream)',
    url: process.env.TIDINGS_NATS_URL ?? 'nats://127.0.0.1:4222',
    start:
      'start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log',
  },
  postgres: {
    name: 'PostgreSQL',
    url: process.env.TIDINGS_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    start: 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start',
  },
} as const

const DEFAULT_PORTS = { rabbitmq: 5672, redis: 6379, nats: 4222, postgres: 5432 } as const

export async function requireBroker(broker: keyof typeof BROKERS): Promise<void> {
  const { name, url, start } = BROKERS[broker]
  const parsed = new URL(url)
  const port = Number(parsed.port || DEFAULT_PORTS[broker])
  const host = parsed.hostname
  const reachable = await new Promise<boolean>((resolve) => {
    const socket = connect(port, host)
    socket.setTimeout(3000)
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
    socket.once('timeout', () => {
      socket.destroy()
      resolve(false)
    })
  })
  if (!reachable) {
    throw new Error(
      `${name} is not reachable at ${host}:${port}: its tests cannot run. Start it with: ${start}`,
    )
  }
}
