import type { Logger } from '@tidings/core'
import { errorMessage } from './errors.js'
import { GROUP_KEY_SUFFIXES, type NamespaceKeys } from './keys.js'
import type { Scripts } from './scripts.js'

/**
 * Retention. Acknowledged entries are trimmed, unacknowledged ones never: every `intervalMs` the
 * tidingsTrim script computes, per stream, MINID = the oldest id any group still needs (its oldest
 * pending entry, or its last-delivered id when nothing is pending) and runs XTRIM MINID ~ there.
 * The events stream is trimmed by every connected transport, each group's retry stream by the
 * processes subscribed to it. Running it in several processes at once is harmless.
 *
 * Ephemeral groups (durable: false) of processes that died without close() would hold trimming back
 * forever; they heart-beat into `{ns}:ephemeral`, and a group silent for `ephemeralExpiryMs` is removed.
 */
export class Retention {
  private timer: NodeJS.Timeout | undefined
  private running: Promise<number> | undefined
  private readonly streams = new Map<string, number>()

  constructor(
    private readonly scripts: Scripts,
    private readonly keys: NamespaceKeys,
    private readonly options: {
      readonly intervalMs: number
      readonly orphanRetentionMs: number
      readonly ephemeralExpiryMs: number
    },
    private readonly logger: Logger,
  ) {
    this.track(keys.events)
  }

  /** Trim this stream too (reference counted: several subscriptions may share a retry stream). */
  track(key: string): void {
    this.streams.set(key, (this.streams.get(key) ?? 0) + 1)
  }

  untrack(key: string): void {
    const count = (this.streams.get(key) ?? 0) - 1
    if (count <= 0) this.streams.delete(key)
    else this.streams.set(key, count)
  }

  start(): void {
    if (this.options.intervalMs <= 0) return
    this.timer = setInterval(() => {
      if (!this.running) void this.trimOnce()
    }, this.options.intervalMs)
    this.timer.unref()
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
  }

  /** One pass (after the one under way, if any); returns how many entries were removed. */
  async trimOnce(): Promise<number> {
    while (this.running) await this.running
    this.running = this.pass()
    try {
      return await this.running
    } finally {
      this.running = undefined
    }
  }

  private async pass(): Promise<number> {
    let removed = 0
    try {
      await this.removeExpiredEphemeralGroups()
      for (const key of this.streams.keys()) {
        // XTRIM … ~ removes at most 10,000 entries per call (its default LIMIT), which bounds how long
        // one call blocks the server; a big backlog takes several calls.
        for (let round = 0; round < 1000; round += 1) {
          const count = Number(await this.scripts.run('tidingsTrim', [key], [this.options.orphanRetentionMs]))
          removed += count
          if (count === 0) break
        }
      }
    } catch (error) {
      this.logger.debug({ error: errorMessage(error) }, 'trimming failed; will retry')
    }
    return removed
  }

  private async removeExpiredEphemeralGroups(): Promise<void> {
    const removed = (await this.scripts.run(
      'tidingsExpireEphemeral',
      [this.keys.ephemeral, this.keys.events],
      [this.options.ephemeralExpiryMs, this.keys.groupPrefix, ...GROUP_KEY_SUFFIXES],
    )) as string[]
    for (const group of removed) this.logger.info({ group }, 'removed an abandoned ephemeral group')
  }
}
