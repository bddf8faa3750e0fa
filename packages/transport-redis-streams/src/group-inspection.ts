import type { GroupStatus } from '@tidings/core/transport'
import type { Cluster, Redis } from 'ioredis'
import type { NamespaceKeys } from './keys.js'

/**
 * `inspectGroups()` from Redis' own counters. Every group of a namespace is a consumer group of the
 * events stream (XINFO GROUPS lists them); its retry stream, delayed set and dead-letter stream add
 * the rest:
 *
 * - pending: entries neither stream has delivered to the group yet (`lag`, counted by hand when
 *   Redis cannot tell it after deletions);
 * - in flight: the two streams' pending entries lists (delivered, not acknowledged);
 * - waiting retries: the delayed set (retries not moved to the retry stream yet);
 * - consumers: unknown. Redis keeps a consumer name until it is deleted, and cannot tell a live
 *   process from one that died.
 */
export async function inspectGroups(client: Redis | Cluster, keys: NamespaceKeys): Promise<GroupStatus[]> {
  const groups = await streamGroups(client, keys.events)
  const statuses = await Promise.all(
    groups.map(async (events): Promise<GroupStatus> => {
      const groupKeys = keys.group(events.name)
      const [retryGroups, waitingRetries, deadLetters] = await Promise.all([
        streamGroups(client, groupKeys.retry),
        client.zcard(groupKeys.delayed),
        client.xlen(groupKeys.dlq),
      ])
      const retry = retryGroups.find((group) => group.name === events.name)
      const [eventsBacklog, retryBacklog] = await Promise.all([
        backlog(client, keys.events, events),
        retry ? backlog(client, groupKeys.retry, retry) : 0,
      ])
      return {
        group: events.name,
        pending: eventsBacklog + retryBacklog,
        inFlight: events.pending + (retry?.pending ?? 0),
        waitingRetries,
        deadLetters,
        consumers: undefined,
      }
    }),
  )
  return statuses.sort((a, b) => (a.group < b.group ? -1 : a.group > b.group ? 1 : 0))
}

/** The names of the namespace's groups (consumer groups of the events stream). */
export async function inspectGroupNames(client: Redis | Cluster, keys: NamespaceKeys): Promise<string[]> {
  return (await streamGroups(client, keys.events)).map((group) => group.name)
}

interface StreamGroup {
  readonly name: string
  readonly pending: number
  readonly lastDeliveredId: string
  readonly lag: number | undefined
}

async function streamGroups(client: Redis | Cluster, stream: string): Promise<StreamGroup[]> {
  let reply: unknown
  try {
    reply = await client.call('XINFO', 'GROUPS', stream)
  } catch (error) {
    if (/no such key/i.test((error as Error)?.message ?? '')) return [] // nothing declared yet
    throw error
  }
  return (reply as unknown[][]).map((flat) => {
    const fields = new Map<string, unknown>()
    for (let index = 0; index + 1 < flat.length; index += 2) fields.set(String(flat[index]), flat[index + 1])
    const lag = fields.get('lag')
    return {
      name: String(fields.get('name')),
      pending: Number(fields.get('pending') ?? 0),
      lastDeliveredId: String(fields.get('last-delivered-id') ?? '0-0'),
      lag: typeof lag === 'number' ? lag : undefined,
    }
  })
}

const COUNT_PAGE = 1_000

/** Entries after the group's last-delivered id: Redis' lag, or counted page by page when it has none. */
async function backlog(client: Redis | Cluster, stream: string, group: StreamGroup): Promise<number> {
  if (group.lag !== undefined) return group.lag
  let counted = 0
  let after = group.lastDeliveredId
  for (;;) {
    const page = (await client.xrange(stream, `(${after}`, '+', 'COUNT', COUNT_PAGE)) as [string, string[]][]
    counted += page.length
    if (page.length < COUNT_PAGE) return counted
    after = page[page.length - 1]![0]
  }
}
