import { createHash, randomUUID } from 'node:crypto'
import type { Message, MessageAttributeValue } from '@aws-sdk/client-sqs'
import { ATTRIBUTE } from './names.js'

/** SQS's longest DelaySeconds (15 minutes) and visibility timeout (12 hours). */
export const MAX_DELAY_SECONDS = 900
export const MAX_VISIBILITY_SECONDS = 43_200

/**
 * Which attempt a received message is, and whether it was delivered before. A retry copy carries its
 * attempt; each further receive of it is one more (a crash, a lease that ran out). A copy whose delay
 * was longer than SQS's 15 minutes was received once only to be hidden until due: that receive is
 * not an attempt. It happened unless the copy was first received after it was due (its consumers
 * were down), which the receive count cannot tell apart: then the attempt is counted one low rather
 * than one high, so a listener is never dead-lettered an attempt early.
 */
export function receivedAttempt(message: Message): { attempt: number; redelivered: boolean } {
  const attributes = message.MessageAttributes ?? {}
  const carried = numberAttribute(attributes[ATTRIBUTE.attempt]) ?? 1
  const receives = Number(message.Attributes?.ApproximateReceiveCount ?? '1')
  const dueAt = numberAttribute(attributes[ATTRIBUTE.dueAt])
  const sentAt = Number(message.Attributes?.SentTimestamp)
  const hidden =
    dueAt !== undefined && Number.isFinite(sentAt) && dueAt - (sentAt + MAX_DELAY_SECONDS * 1000) > 1000
      ? 1
      : 0
  const redeliveries = Math.max(0, receives - 1 - hidden)
  return { attempt: carried + redeliveries, redelivered: redeliveries > 0 }
}

export function numberAttribute(value: MessageAttributeValue | undefined): number | undefined {
  const number = Number(value?.StringValue)
  return value?.StringValue !== undefined && Number.isFinite(number) ? number : undefined
}

/** The attributes every copy of an event carries (publish, retry, dead letter, replay): its name and key. */
export function eventAttributes(
  type: string,
  key: string | undefined,
): Record<string, MessageAttributeValue> {
  return {
    [ATTRIBUTE.type]: { DataType: 'String', StringValue: type },
    ...(key === undefined ? {} : { [ATTRIBUTE.key]: { DataType: 'String', StringValue: key } }),
  }
}

/** The name and key a received message carries, for its next copy. */
export function carriedAttributes(message: Message): Record<string, MessageAttributeValue> {
  const attributes = message.MessageAttributes ?? {}
  const type = attributes[ATTRIBUTE.type]?.StringValue
  const key = attributes[ATTRIBUTE.key]?.StringValue
  return type === undefined ? {} : eventAttributes(type, key)
}

/**
 * FIFO mode: the message group is the event's key, so one key's events are delivered in order and
 * one at a time, while other keys go on; an event without a key is a group of its own. SQS takes
 * up to 128 printable ASCII characters: any other key is hashed (the same key, the same group).
 */
export function messageGroupId(key: string | undefined, id: string): string {
  return fitted(key ?? id)
}

/** Message group and deduplication ids: 1 to 128 printable ASCII characters, or the value's hash. */
function fitted(value: string): string {
  return /^[\x21-\x7e]{1,128}$/.test(value) ? value : createHash('sha256').update(value).digest('hex')
}

/**
 * The FIFO fields of a message, or none on standard queues. `deduplication: 'event'` lets SNS drop a
 * second publish of the same event id within its 5-minute window; copies Tidings makes itself
 * (dead letters, replays, sends to one group) are meant to arrive and get an id of their own.
 */
export function fifoFields(
  fifo: boolean,
  message: { readonly id: string; readonly key?: string | undefined },
  deduplication: 'event' | 'fresh',
): { MessageGroupId?: string; MessageDeduplicationId?: string } {
  if (!fifo) return {}
  return {
    MessageGroupId: messageGroupId(message.key, message.id),
    MessageDeduplicationId: deduplication === 'event' ? fitted(message.id) : randomUUID(),
  }
}
