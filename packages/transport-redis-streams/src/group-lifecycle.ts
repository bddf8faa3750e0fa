import type { Logger } from '@tidings/core/transport'
import type { Cluster, Redis } from 'ioredis'
import { errorMessage, isBusyGroupError } from './errors.js'
import type { GroupKeys, NamespaceKeys } from './keys.js'
import type { Scripts } from './scripts.js'

/**
 * A consumer group's life on the server: created on the events stream and on its own retry stream,
 * recreated after data loss, kept alive by a heartbeat when ephemeral, and removed with its keys when
 * an ephemeral group closes.
 */
export class GroupLifecycle {
  constructor(
    private readonly client: Redis | Cluster,
    private readonly scripts: Scripts,
    private readonly keys: NamespaceKeys,
    private readonly groupKeys: GroupKeys,
    private readonly group: string,
    private readonly durable: boolean,
    private readonly logger: Logger,
  ) {}

  /**
   * Creates the group on the events stream (at `$`: it gets every event published from now on) and on
   * its retry stream (at `0`). After data loss (NOGROUP) a durable group is recreated at `0`: whatever
   * the new streams already hold was published after the loss and belongs to the group.
   */
  async ensure(recovering: boolean): Promise<void> {
    const create = async (key: string, from: string): Promise<void> => {
      try {
        await this.client.call('XGROUP', 'CREATE', key, this.group, from, 'MKSTREAM')
      } catch (error) {
        if (!isBusyGroupError(error)) throw error
      }
    }
    // A durable group recovering from data loss takes everything published since; an ephemeral one
    // (a tail whose group retention removed while its process was paused) only what comes next.
    await create(this.keys.events, recovering && this.durable ? '0' : '$')
    await create(this.groupKeys.retry, '0')
    if (recovering)
      this.logger.warn(
        { group: this.group },
        'consumer group was missing (Redis lost its data?); recreated it',
      )
  }

  async heartbeat(): Promise<void> {
    await this.scripts.run('tidingsHeartbeat', [this.keys.ephemeral], [this.group])
  }

  async remove(): Promise<void> {
    try {
      await this.client.call('XGROUP', 'DESTROY', this.keys.events, this.group)
      await this.client.del(this.groupKeys.retry, this.groupKeys.delayed, this.groupKeys.dlq)
      await this.client.zrem(this.keys.ephemeral, this.group)
    } catch (error) {
      this.logger.warn({ group: this.group, error: errorMessage(error) }, 'could not remove ephemeral group')
    }
  }
}
