import type { StoredDeadLetter, TransportDeadLetters } from '@tidings/core'
import type { Cluster, Redis } from 'ioredis'
import { sendBuffer } from './commands.js'
import {
  decodeHistory,
  encodeRetryMeta,
  fieldBody,
  fieldText,
  parseEntries,
  type StreamEntry,
} from './entries.js'
import type { GroupKeys } from './keys.js'
import type { Scripts } from './scripts.js'

const PAGE = 500

/**
 * The dead-letter stream `{ns}:<group>:dlq` of one group. Entries hold the untouched body, the event id
 * and type, the attempt history (JSON), the reason and the time. Replay XADDs to the group's own retry
 * stream (attempt 1, empty history: a new attempt chain) and XDELs from the dlq in one MULTI, so a
 * dead letter is never lost nor replayed to another group.
 */
export class RedisDeadLetters implements TransportDeadLetters {
  constructor(
    private readonly client: Redis | Cluster,
    private readonly scripts: Scripts,
    private readonly keys: GroupKeys,
  ) {}

  async list(options: { readonly limit: number }): Promise<StoredDeadLetter[]> {
    const limit = Math.max(0, Math.floor(options.limit))
    if (limit === 0) return []
    const entries = parseEntries(
      await sendBuffer(this.client, 'XRANGE', this.keys.dlq, '-', '+', 'COUNT', limit),
    )
    return entries.map((entry) => this.toDeadLetter(entry))
  }

  count(): Promise<number> {
    return this.client.xlen(this.keys.dlq)
  }

  async replay(ids: readonly string[] | 'all'): Promise<number> {
    const wanted = ids === 'all' ? undefined : new Set(ids)
    if (wanted?.size === 0) return 0
    let replayed = 0
    let start = '-'
    for (;;) {
      const entries = parseEntries(
        await sendBuffer(this.client, 'XRANGE', this.keys.dlq, start, '+', 'COUNT', PAGE),
      )
      const chosen = wanted ? entries.filter((entry) => wanted.has(fieldText(entry, 'id') ?? '')) : entries
      if (chosen.length > 0) {
        const transaction = this.client.multi()
        for (const entry of chosen) {
          const meta = encodeRetryMeta({
            type: fieldText(entry, 'type') || undefined,
            id: fieldText(entry, 'id'),
            attempt: 1,
            history: [],
          })
          transaction.xadd(this.keys.retry, '*', 'meta', meta, 'body', fieldBody(entry))
          transaction.xdel(this.keys.dlq, entry.id)
        }
        const results = await transaction.exec()
        if (results === null) throw new Error('The replay transaction was aborted; run replay() again.')
        for (const [error] of results) if (error) throw error
        replayed += chosen.length
      }
      if (entries.length < PAGE) break
      start = `(${entries[entries.length - 1]!.id}`
    }
    return replayed
  }

  async purge(): Promise<number> {
    return Number(await this.scripts.run('tidingsPurge', [this.keys.dlq], []))
  }

  private toDeadLetter(entry: StreamEntry): StoredDeadLetter {
    return {
      id: fieldText(entry, 'id') ?? entry.id,
      group: this.keys.group,
      body: fieldBody(entry),
      history: decodeHistory(fieldText(entry, 'history')),
      reason: fieldText(entry, 'reason') ?? '',
      deadLetteredAt:
        fieldText(entry, 'deadLetteredAt') ?? new Date(Number(entry.id.split('-')[0])).toISOString(),
    }
  }
}
