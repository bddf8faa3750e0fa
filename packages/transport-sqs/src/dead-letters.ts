import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs'
import {
  type AttemptFailure,
  ConfigError,
  parseJsonSafely,
  type StoredDeadLetter,
  type TransportDeadLetters,
} from '@tidings/core/transport'
import { carriedAttributes, fifoFields } from './message-fields.js'
import { ATTRIBUTE } from './names.js'
import { isMissingQueue, type Topology } from './topology.js'

/** How long listing hides the messages it reads before giving them back (seconds). */
const BROWSE_VISIBILITY = 30

/**
 * A group's dead-letter queue `<ns>-<group>-dlq`. SQS cannot peek: list() receives the messages
 * (which raises their receive counts) and makes them visible again at once; that is the
 * "approximate" browsing the transport declares. A standard queue keeps no order, so list() sorts
 * by the time each was dead-lettered.
 */
export class SqsDeadLetters implements TransportDeadLetters {
  constructor(
    private readonly sqs: SQSClient,
    private readonly topology: Topology,
    private readonly queueName: string,
    private readonly groupQueueName: string,
    private readonly group: string,
    private readonly fifo: boolean,
  ) {}

  async list(options: { readonly limit: number }): Promise<StoredDeadLetter[]> {
    const limit = options?.limit
    if (!Number.isInteger(limit) || limit < 1) {
      throw new ConfigError(
        `deadLetters("${this.group}").list({ limit }) needs a positive whole number, got ${String(limit)}.`,
      )
    }
    const url = await this.url()
    if (!url) return []
    const messages = await this.receiveAll(url, limit)
    await this.giveBack(url, messages)
    return messages
      .map((message) => this.toStored(message))
      .sort((a, b) =>
        a.deadLetteredAt < b.deadLetteredAt ? -1 : a.deadLetteredAt > b.deadLetteredAt ? 1 : 0,
      )
      .slice(0, limit)
  }

  async count(): Promise<number> {
    const url = await this.url()
    if (!url) return 0
    const out = await this.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: url,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    )
    return (
      Number(out.Attributes?.ApproximateNumberOfMessages ?? 0) +
      Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
    )
  }

  async replay(ids: readonly string[] | 'all'): Promise<number> {
    if (ids !== 'all' && !Array.isArray(ids)) {
      throw new ConfigError(`deadLetters("${this.group}").replay() takes an array of event ids or 'all'.`)
    }
    const wanted = ids === 'all' ? undefined : new Set(ids)
    if (wanted?.size === 0) return 0
    const url = await this.url()
    if (!url) return 0
    const groupUrl = await this.topology.queueUrl(this.groupQueueName)
    const messages = await this.receiveAll(url, Number.POSITIVE_INFINITY)
    const chosen = messages.filter((message) => wanted === undefined || wanted.has(this.toStored(message).id))
    const others = messages.filter((message) => !chosen.includes(message))
    await this.giveBack(url, others)
    for (const message of chosen) {
      // Back to the group only, as a new attempt chain: no attempt or history attributes.
      const stored = this.toStored(message)
      const key = message.MessageAttributes?.[ATTRIBUTE.key]?.StringValue
      await this.sqs.send(
        new SendMessageCommand({
          QueueUrl: groupUrl,
          MessageBody: message.Body ?? '',
          MessageAttributes: carriedAttributes(message),
          ...fifoFields(this.fifo, { id: stored.id, key }, 'fresh'),
        }),
      )
    }
    await this.remove(url, chosen)
    return chosen.length
  }

  async purge(): Promise<number> {
    const url = await this.url()
    if (!url) return 0
    // Not PurgeQueue: AWS allows it once a minute and does not say how many it removed.
    const messages = await this.receiveAll(url, Number.POSITIVE_INFINITY)
    await this.remove(url, messages)
    return messages.length
  }

  private async url(): Promise<string | undefined> {
    try {
      return await this.topology.queueUrl(this.queueName)
    } catch (error) {
      if (isMissingQueue(error)) return undefined
      throw error
    }
  }

  /** Receives until the queue gives nothing more (or `limit`), hiding what it read meanwhile. */
  private async receiveAll(url: string, limit: number): Promise<Message[]> {
    const seen = new Map<string, Message>()
    let emptyReads = 0
    while (seen.size < limit && emptyReads < 2) {
      const out = await this.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: url,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 0,
          VisibilityTimeout: BROWSE_VISIBILITY,
          MessageAttributeNames: ['All'],
          MessageSystemAttributeNames: ['SentTimestamp', 'ApproximateReceiveCount'],
        }),
      )
      const messages = out.Messages ?? []
      if (messages.length === 0) emptyReads += 1
      for (const message of messages) seen.set(message.MessageId!, message)
    }
    return [...seen.values()]
  }

  private async giveBack(url: string, messages: readonly Message[]): Promise<void> {
    for (let start = 0; start < messages.length; start += 10) {
      await this.sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: url,
          Entries: messages.slice(start, start + 10).map((message, index) => ({
            Id: String(index),
            ReceiptHandle: message.ReceiptHandle!,
            VisibilityTimeout: 0,
          })),
        }),
      )
    }
  }

  private async remove(url: string, messages: readonly Message[]): Promise<void> {
    for (let start = 0; start < messages.length; start += 10) {
      await this.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: url,
          Entries: messages.slice(start, start + 10).map((message, index) => ({
            Id: String(index),
            ReceiptHandle: message.ReceiptHandle!,
          })),
        }),
      )
    }
  }

  private toStored(message: Message): StoredDeadLetter {
    const attributes = message.MessageAttributes ?? {}
    const history = tryParse(attributes[ATTRIBUTE.history]?.StringValue ?? '[]')
    const sentAt = Number(message.Attributes?.SentTimestamp ?? 0)
    return {
      id: attributes[ATTRIBUTE.id]?.StringValue ?? idOf(message.Body) ?? message.MessageId!,
      group: this.group,
      body: Buffer.from(message.Body ?? '', 'utf8'),
      history: Array.isArray(history) ? (history as AttemptFailure[]) : [],
      reason:
        attributes[ATTRIBUTE.reason]?.StringValue ??
        'SQS moved it to the dead-letter queue after maxReceiveCount receives (a crash loop)',
      deadLetteredAt: attributes[ATTRIBUTE.deadLetteredAt]?.StringValue ?? new Date(sentAt).toISOString(),
    }
  }
}

function idOf(body: string | undefined): string | undefined {
  const parsed = tryParse(body ?? '') as { id?: unknown } | undefined
  return typeof parsed?.id === 'string' ? parsed.id : undefined
}

function tryParse(text: string): unknown {
  try {
    return parseJsonSafely(text)
  } catch {
    return undefined
  }
}
