/**
 * Key layout. Every key of a namespace carries the hash tag `{<ns>}`, so on Redis Cluster they all
 * live in one slot: XREADGROUP over the events and retry streams, and the Lua scripts that touch a
 * source stream, a delayed set and a dead-letter stream at once, stay single-slot.
 *
 *   {ns}:events            every published event (fields: type, id, [key], body)
 *   {ns}:<group>:retry     retries and replays of one group only (fields: meta, body)
 *   {ns}:<group>:delayed   sorted set of retries waiting for their due time (score: due ms)
 *   {ns}:<group>:dlq       dead letters of one group (fields: id, type, body, history, reason, deadLetteredAt)
 *   {ns}:ephemeral         sorted set: ephemeral group → last heartbeat (ms), for clean-up after a crash
 */
export interface NamespaceKeys {
  readonly namespace: string
  /** What every group key starts with: `{ns}:` (a group's keys are this, the group, a suffix). */
  readonly groupPrefix: string
  readonly events: string
  readonly ephemeral: string
  group(group: string): GroupKeys
}

export interface GroupKeys {
  readonly group: string
  readonly retry: string
  readonly delayed: string
  readonly dlq: string
}

/** The suffixes of a group's own keys (retry, delayed, dlq), after `{ns}:<group>`. */
export const GROUP_KEY_SUFFIXES = [':retry', ':delayed', ':dlq'] as const

export function namespaceKeys(namespace: string): NamespaceKeys {
  const tag = `{${namespace}}`
  const groupPrefix = `${tag}:`
  const [retry, delayed, dlq] = GROUP_KEY_SUFFIXES
  return {
    namespace,
    groupPrefix,
    events: `${tag}:events`,
    ephemeral: `${tag}:ephemeral`,
    group: (group) => ({
      group,
      retry: `${groupPrefix}${group}${retry}`,
      delayed: `${groupPrefix}${group}${delayed}`,
      dlq: `${groupPrefix}${group}${dlq}`,
    }),
  }
}

/** Idempotency keys are independent of each other, so they carry no hash tag and spread over a cluster. */
export function idempotencyKey(namespace: string, group: string, eventId: string): string {
  return `${namespace}:idem:${group}:${eventId}`
}
