import { ConfigError } from '@tidings/core/transport'

/**
 * Every AWS resource of a namespace: one SNS topic `<ns>-events`, and per group a queue `<ns>-<group>`
 * with its dead-letter queue `<ns>-<group>-dlq`; in FIFO mode each name ends in `.fifo`, as AWS
 * requires. Queue names allow 80 characters, the suffix included.
 */
export class Names {
  private readonly suffix: string

  constructor(
    readonly namespace: string,
    readonly fifo = false,
  ) {
    this.suffix = fifo ? '.fifo' : ''
  }

  get topic(): string {
    return `${this.namespace}-events${this.suffix}`
  }
  groupQueue(group: string): string {
    if (group.endsWith('-dlq')) {
      throw new ConfigError(
        `The group "${group}" cannot be used on SQS: its queue would be the dead-letter queue of group "${group.slice(0, -4)}". Rename the listener (not "dlq").`,
      )
    }
    return checked(`${this.namespace}-${group}${this.suffix}`)
  }
  deadLetterQueue(group: string): string {
    return checked(`${this.namespace}-${group}-dlq${this.suffix}`)
  }
  /** The group of a queue name of this namespace and mode, or undefined (a DLQ, another namespace). */
  groupOf(queueName: string): string | undefined {
    const prefix = `${this.namespace}-`
    if (!queueName.startsWith(prefix) || queueName.endsWith('.fifo') !== this.fifo) return undefined
    const name = queueName.slice(prefix.length, queueName.length - this.suffix.length)
    return name.endsWith('-dlq') ? undefined : name
  }
}

function checked(name: string): string {
  if (name.length > 80 || !/^[A-Za-z0-9_-]+(\.fifo)?$/.test(name)) {
    throw new ConfigError(
      `The SQS queue name "${name}" is invalid (80 letters, digits, "-" or "_" at most): use a shorter namespace or group.`,
    )
  }
  return name
}

/** Message attributes Tidings reads and writes (SQS allows 10 per message). */
export const ATTRIBUTE = {
  type: 'type',
  key: 'key',
  attempt: 'tidings-attempt',
  history: 'tidings-history',
  dueAt: 'tidings-due-at',
  id: 'tidings-id',
  reason: 'tidings-reason',
  deadLetteredAt: 'tidings-dead-lettered-at',
} as const
