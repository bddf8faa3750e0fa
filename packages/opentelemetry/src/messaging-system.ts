/**
 * `messaging.system` for a Tidings transport name: the well-known values of the OpenTelemetry
 * messaging conventions where one exists, the transport's own name otherwise.
 */
const SYSTEMS: Readonly<Record<string, string>> = {
  amqp: 'rabbitmq',
  'redis-streams': 'redis',
  nats: 'nats',
  sqs: 'aws_sqs',
  memory: 'memory',
}

export function messagingSystem(transport: string): string {
  return SYSTEMS[transport] ?? transport
}
