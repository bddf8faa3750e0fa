/**
 * Names of everything this transport creates on the server, in one place. A namespace owns two
 * streams: `<ns>-events` (subjects `<ns>.events.<event name>` and `<ns>.retry.<group>`) and
 * `<ns>-dead-letters` (subjects `<ns>.dead-letters.<group>`). Group names never contain "--" (core's
 * one group-name rule), so `<group>--retry` cannot collide with another group's consumer.
 */
export interface NamespaceSubjects {
  readonly eventsStream: string
  readonly deadLettersStream: string
  /** `<ns>.events.>`: every event. */
  readonly allEvents: string
  /** `<ns>.retry.>`: every group's retry copies. */
  readonly allRetries: string
  /** `<ns>.dead-letters.>` */
  readonly allDeadLetters: string
  event(type: string): string
  retry(group: string): string
  deadLetters(group: string): string
  retryConsumer(group: string): string
}

export function namespaceSubjects(namespace: string): NamespaceSubjects {
  return {
    eventsStream: `${namespace}-events`,
    deadLettersStream: `${namespace}-dead-letters`,
    allEvents: `${namespace}.events.>`,
    allRetries: `${namespace}.retry.>`,
    allDeadLetters: `${namespace}.dead-letters.>`,
    event: (type) => `${namespace}.events.${type}`,
    retry: (group) => `${namespace}.retry.${group}`,
    deadLetters: (group) => `${namespace}.dead-letters.${group}`,
    retryConsumer: (group) => `${group}--retry`,
  }
}
