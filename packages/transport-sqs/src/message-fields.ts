import { createHash, randomUUID } from 'node:crypto'
import type { Message, MessageAttributeValue } from '@aws-sdk/client-sqs'
import { ATTRIBUTE } from './names.js'

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
