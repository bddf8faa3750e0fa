import type { Cluster, Redis } from 'ioredis'
import { parseEntries, type StreamEntry } from './entries.js'
import type { Scripts } from './scripts.js'

/** An entry this consumer now owns, with the delivery count Redis keeps for it (1 = first delivery). */
export interface ClaimedEntry {
  readonly entry: StreamEntry<string>
  readonly deliveryCount: number
}

type PendingRow = [id: string, consumer: string, idleMs: number, deliveryCount: number]

/**
 * Crash recovery (G7): XAUTOCLAIM entries of the group idle longer than `minIdleMs` (their owner died
 * or stalled; a live owner keeps resetting the idle time through lease extension). XAUTOCLAIM counts
 * a delivery but does not return the count, so one XPENDING over the claimed range fetches it.
 * Entries deleted meanwhile (trimmed) are dropped from the PEL by Redis 7 itself.
 */
export async function autoClaim(
  client: Redis | Cluster,
  key: string,
  group: string,
  consumer: string,
  minIdleMs: number,
  cursor: string,
  count: number,
): Promise<{ cursor: string; claimed: ClaimedEntry[] }> {
  const reply = (await client.call(
    'XAUTOCLAIM',
    key,
    group,
    consumer,
    minIdleMs,
    cursor,
    'COUNT',
    count,
  )) as [string, unknown, unknown?]
  const next = reply[0]
  const entries = parseEntries<string>(reply[1])
  if (entries.length === 0) return { cursor: next, claimed: [] }
  const counts = await deliveryCounts(client, key, group, consumer, entries)
  return {
    cursor: next,
    claimed: entries.map((entry) => ({ entry, deliveryCount: counts.get(entry.id) ?? 2 })),
  }
}

async function deliveryCounts(
  client: Redis | Cluster,
  key: string,
  group: string,
  consumer: string,
  entries: readonly StreamEntry<string>[],
): Promise<Map<string, number>> {
  const first = entries[0]!.id
  const last = entries[entries.length - 1]!.id
  const rows = (await client.call(
    'XPENDING',
    key,
    group,
    first,
    last,
    entries.length,
    consumer,
  )) as PendingRow[]
  return new Map(rows.map((row) => [row[0], Number(row[3])]))
}

/**
 * Crash recovery (G7) that never takes back what this process still holds: XPENDING lists the
 * group's entries idle past `minIdleMs` with their owners, and XCLAIM (with the same min-idle, so an
 * entry renewed meanwhile stays put) takes the others. Unlike XAUTOCLAIM, an entry whose lease lapsed
 * here while its handler still runs (this process looks stalled) is left for another process.
 */
export async function claimIdle(
  client: Redis | Cluster,
  key: string,
  group: string,
  consumer: string,
  minIdleMs: number,
  count: number,
  isHeldHere: (id: string) => boolean,
): Promise<ClaimedEntry[]> {
  const rows = (await client.call('XPENDING', key, group, 'IDLE', minIdleMs, '-', '+', count)) as PendingRow[]
  const wanted = rows.filter((row) => !(row[1] === consumer && isHeldHere(row[0])))
  if (wanted.length === 0) return []
  const counts = new Map(wanted.map((row) => [row[0], Number(row[3]) + 1]))
  const entries = parseEntries<string>(
    await client.call('XCLAIM', key, group, consumer, minIdleMs, ...wanted.map((row) => row[0])),
  )
  return entries.map((entry) => ({ entry, deliveryCount: counts.get(entry.id) ?? 2 }))
}

/**
 * A process restarted with the same consumer name takes its own pending entries back first (the
 * replies it never saw, the deliveries it never settled). XPENDING lists them with their delivery
 * counts; XCLAIM with min-idle 0 re-delivers them (counting one more delivery). Returns one page;
 * `next` is the id to continue after, undefined when the list is exhausted.
 */
export async function claimOwnPending(
  client: Redis | Cluster,
  key: string,
  group: string,
  consumer: string,
  after: string | undefined,
  count: number,
  isHeld: (id: string) => boolean,
): Promise<{ claimed: ClaimedEntry[]; next: string | undefined }> {
  const rows = (await client.call(
    'XPENDING',
    key,
    group,
    after === undefined ? '-' : `(${after}`,
    '+',
    count,
    consumer,
  )) as PendingRow[]
  const next = rows.length === count ? rows[rows.length - 1]![0] : undefined
  const wanted = rows.filter((row) => !isHeld(row[0]))
  if (wanted.length === 0) return { claimed: [], next }
  const counts = new Map(wanted.map((row) => [row[0], Number(row[3]) + 1]))
  const entries = parseEntries<string>(
    await client.call('XCLAIM', key, group, consumer, 0, ...wanted.map((row) => row[0])),
  )
  return { claimed: entries.map((entry) => ({ entry, deliveryCount: counts.get(entry.id) ?? 2 })), next }
}

/**
 * Lease extension: resets the idle time of entries this consumer still owns, so XAUTOCLAIM elsewhere
 * leaves a slow but alive handler alone. Returns the ids another process has taken over meanwhile.
 */
export async function extendLeases(
  scripts: Scripts,
  key: string,
  group: string,
  consumer: string,
  ids: readonly string[],
): Promise<string[]> {
  const lost: string[] = []
  for (let i = 0; i < ids.length; i += 500) {
    const reply = (await scripts.run(
      'tidingsExtendLease',
      [key],
      [group, consumer, ...ids.slice(i, i + 500)],
    )) as string[] | null
    if (Array.isArray(reply)) lost.push(...reply.map(String))
  }
  return lost
}

/**
 * Hands entries this consumer holds but never handed to a handler (it is stopping) back to the group
 * at once: XCLAIM … IDLE makes them look abandoned, so the next XAUTOCLAIM of another process takes
 * them without waiting for ackTimeoutMs; RETRYCOUNT undoes the delivery this process never made, so
 * that claim does not count as a redelivery.
 */
export async function releaseToGroup(
  client: Redis | Cluster,
  key: string,
  group: string,
  consumer: string,
  entries: readonly { readonly id: string; readonly deliveryCount: number }[],
  idleMs: number,
): Promise<void> {
  const byCount = new Map<number, string[]>()
  for (const { id, deliveryCount } of entries) {
    const ids = byCount.get(deliveryCount) ?? []
    ids.push(id)
    byCount.set(deliveryCount, ids)
  }
  for (const [deliveryCount, ids] of byCount) {
    await client.call(
      'XCLAIM',
      key,
      group,
      consumer,
      0,
      ...ids,
      'IDLE',
      idleMs,
      'RETRYCOUNT',
      Math.max(0, deliveryCount - 1),
      'JUSTID',
    )
  }
}
