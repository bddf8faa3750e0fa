import { ListQueueTagsCommand, type SQSClient, TagQueueCommand } from '@aws-sdk/client-sqs'
import type { Logger } from '@tidings/core/transport'
import type { Names } from './names.js'
import { isMissingQueue, type Topology } from './topology.js'

const EPHEMERAL_TAG = 'tidings-ephemeral'
const EXPIRES_TAG = 'tidings-expires-at'
/** How long an ephemeral group outlives its last renewal: then any process may remove it. */
export const EPHEMERAL_LEASE_MS = 15 * 60_000
const RENEW_EVERY_MS = 5 * 60_000

/**
 * Ephemeral (`durable: false`) groups live as long as their process: close() removes them, and so
 * that a process that crashed leaves nothing behind for good, their queues carry an expiry tag the
 * living process renews. Any process of the namespace removes expired ones when it connects.
 */
export class EphemeralQueues {
  private readonly groups = new Set<string>()
  private renewal: NodeJS.Timeout | undefined

  constructor(
    private readonly sqs: SQSClient,
    private readonly topology: Topology,
    private readonly names: Names,
    private readonly logger: () => Logger,
    private readonly renewEveryMs = RENEW_EVERY_MS,
  ) {}

  /** The tags a new ephemeral queue starts with. */
  tags(): Record<string, string> {
    return { [EPHEMERAL_TAG]: 'true', [EXPIRES_TAG]: String(Date.now() + EPHEMERAL_LEASE_MS) }
  }

  track(group: string): void {
    this.groups.add(group)
    this.renewal ??= setInterval(() => void this.renew(), this.renewEveryMs).unref()
  }

  /** Removes the groups of this process (close). */
  async removeAll(): Promise<void> {
    clearInterval(this.renewal)
    this.renewal = undefined
    for (const group of this.groups) {
      try {
        await this.topology.removeGroup(group)
      } catch (error) {
        this.logger().debug(
          { error: (error as Error)?.message, group },
          'sqs: removing an ephemeral group failed; it expires later',
        )
      }
    }
    this.groups.clear()
  }

  /** Removes the namespace's ephemeral queues whose expiry has passed; resolves with how many. */
  async sweep(now = Date.now()): Promise<number> {
    let removed = 0
    for (const url of await this.topology.listQueueUrls()) {
      const name = decodeURIComponent(url.split('/').pop() ?? '')
      try {
        const { Tags: tags = {} } = await this.sqs.send(new ListQueueTagsCommand({ QueueUrl: url }))
        if (tags[EPHEMERAL_TAG] !== 'true' || !(Number(tags[EXPIRES_TAG]) < now)) continue
        const group = this.names.groupOf(name)
        if (group !== undefined && this.groups.has(group)) continue
        if (group !== undefined) await this.topology.removeGroup(group)
        else await this.topology.deleteQueue(name) // a dead-letter queue whose group queue is gone
        removed += 1
      } catch (error) {
        // Gone already (removed with its group a moment ago, or by another process's sweep), or
        // this one failed: the others are still looked at.
        if (isMissingQueue(error)) continue
        this.logger().debug(
          { error: (error as Error)?.message, queue: name },
          'sqs: removing an expired ephemeral queue failed; the next sweep tries again',
        )
      }
    }
    return removed
  }

  private async renew(): Promise<void> {
    const tags = { [EXPIRES_TAG]: String(Date.now() + EPHEMERAL_LEASE_MS) }
    for (const group of this.groups) {
      for (const name of [this.names.groupQueue(group), this.names.deadLetterQueue(group)]) {
        try {
          await this.sqs.send(
            new TagQueueCommand({ QueueUrl: await this.topology.queueUrl(name), Tags: tags }),
          )
        } catch (error) {
          this.logger().debug(
            { error: (error as Error)?.message, queue: name },
            'sqs: renewing an ephemeral queue failed',
          )
        }
      }
    }
  }
}
