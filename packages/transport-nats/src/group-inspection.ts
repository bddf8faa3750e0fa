import type { ConsumerInfo, JetStreamManager } from '@nats-io/jetstream'
import type { GroupStatus } from '@tidings/core/transport'
import type { NamespaceSubjects } from './subjects.js'

const RETRY_SUFFIX = '--retry'

/**
 * `inspectGroups()` from JetStream's consumer info. Each group is two consumers of the events
 * stream, `<group>` (events) and `<group>--retry` (its retry copies):
 *
 * - pending: events the group's consumer has not delivered yet (`num_pending`);
 * - in flight: events delivered and not acknowledged (`num_ack_pending` of the events consumer);
 * - waiting retries: the retry consumer's copies not handled to the end, delivered or not. A copy
 *   that arrives before it is due is nak'ed with the rest of its delay, so JetStream cannot tell a
 *   copy waiting for its time from one being handled: one in a handler right now counts as waiting;
 * - consumers: unknown. A pull consumer has no notion of connected processes.
 */
export async function inspectGroups(
  jsm: JetStreamManager,
  subjects: NamespaceSubjects,
  deadLetters: (group: string) => Promise<number>,
): Promise<GroupStatus[]> {
  const consumers = new Map<string, ConsumerInfo>()
  try {
    for await (const info of jsm.consumers.list(subjects.eventsStream)) {
      // nats-server before 2.10 lists a consumer it is removing right now (an ephemeral group whose
      // process vanished) as null: that group is gone, so it is left out.
      if (info) consumers.set(info.name, info)
    }
  } catch (error) {
    if (isNotFound(error)) return [] // the namespace has no stream yet
    throw error
  }
  const statuses: GroupStatus[] = []
  for (const [name, events] of consumers) {
    if (name.endsWith(RETRY_SUFFIX)) continue
    const retry = consumers.get(subjects.retryConsumer(name))
    statuses.push({
      group: name,
      pending: events.num_pending,
      inFlight: events.num_ack_pending,
      waitingRetries: retry ? retry.num_pending + retry.num_ack_pending : 0,
      deadLetters: await deadLetters(name),
      consumers: undefined,
    })
  }
  return statuses.sort((a, b) => (a.group < b.group ? -1 : a.group > b.group ? 1 : 0))
}

/** Whether the events consumer of a group exists. */
export async function groupExists(
  jsm: JetStreamManager,
  subjects: NamespaceSubjects,
  group: string,
): Promise<boolean> {
  try {
    await jsm.consumers.info(subjects.eventsStream, group)
    return true
  } catch (error) {
    if (isNotFound(error)) return false
    throw error
  }
}

function isNotFound(error: unknown): boolean {
  const candidate = error as { code?: unknown; api_error?: { code?: number }; message?: string } | null
  return (
    candidate?.api_error?.code === 404 ||
    String(candidate?.code) === '404' ||
    /not found/i.test(candidate?.message ?? '')
  )
}
