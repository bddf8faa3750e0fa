import {
  CreateTopicCommand,
  ListSubscriptionsByTopicCommand,
  SetSubscriptionAttributesCommand,
  type SNSClient,
  SubscribeCommand,
  type Subscription,
  UnsubscribeCommand,
} from '@aws-sdk/client-sns'
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListQueuesCommand,
  QueueDoesNotExist,
  SetQueueAttributesCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs'
import type { Names } from './names.js'

/** SQS's longest retention, 14 days, for group and dead-letter queues alike. */
const RETENTION_SECONDS = 14 * 24 * 3600

export interface GroupTopology {
  readonly group: string
  readonly patterns: readonly string[]
  /** Tags of both queues (an ephemeral group's expiry). */
  readonly tags: Record<string, string> | undefined
  readonly visibilitySeconds: number
  /** Redrive to the DLQ after this many receives (the crash-loop net), or none. */
  readonly maxReceiveCount: number | undefined
}

/** Declares topics, queues and subscriptions (idempotently), and remembers queue URLs. */
export class Topology {
  private topicArn: Promise<string> | undefined
  private readonly urls = new Map<string, Promise<string>>()

  constructor(
    private readonly sqs: SQSClient,
    private readonly sns: SNSClient,
    private readonly names: Names,
  ) {}

  topic(abortSignal?: AbortSignal): Promise<string> {
    this.topicArn ??= this.sns
      .send(
        new CreateTopicCommand({
          Name: this.names.topic,
          // Tidings sets a deduplication id (the event id) on every publish.
          ...(this.names.fifo
            ? { Attributes: { FifoTopic: 'true', ContentBasedDeduplication: 'false' } }
            : {}),
        }),
        abortSignal ? { abortSignal } : {},
      )
      .then((out) => out.TopicArn!)
    this.topicArn.catch(() => {
      this.topicArn = undefined
    })
    return this.topicArn
  }

  /**
   * The URL of an existing queue; rejects with QueueDoesNotExist. Used as SQS returns it: the SDK
   * sends every request to the client's endpoint and names the queue in the body, so an emulator's
   * URLs (hosts such as sqs.us-east-1.127.0.0.1, which do not resolve) work once `endpoint` is set.
   */
  queueUrl(name: string): Promise<string> {
    let url = this.urls.get(name)
    if (!url) {
      url = this.sqs.send(new GetQueueUrlCommand({ QueueName: name })).then((out) => out.QueueUrl!)
      this.urls.set(name, url)
      url.catch(() => this.urls.delete(name))
    }
    return url
  }

  forget(name: string): void {
    this.urls.delete(name)
  }

  async declareGroup(topology: GroupTopology): Promise<{ queueUrl: string; deadLetterUrl: string }> {
    const { group, tags } = topology
    // Dead letters wait for a person: kept as long as SQS allows (its default is 4 days).
    const deadLetterUrl = await this.createQueue(
      this.names.deadLetterQueue(group),
      { MessageRetentionPeriod: String(RETENTION_SECONDS) },
      tags,
    )
    const deadLetterArn = await this.queueArn(deadLetterUrl)
    const topicArn = await this.topic()
    const queueName = this.names.groupQueue(group)
    const attributes: Record<string, string> = {
      VisibilityTimeout: String(topology.visibilitySeconds),
      MessageRetentionPeriod: String(RETENTION_SECONDS),
    }
    if (topology.maxReceiveCount !== undefined) {
      attributes.RedrivePolicy = JSON.stringify({
        deadLetterTargetArn: deadLetterArn,
        maxReceiveCount: String(topology.maxReceiveCount),
      })
    }
    const queueUrl = await this.createQueue(queueName, attributes, tags)
    const queueArn = await this.queueArn(queueUrl)
    // Let the topic send to the queue (AWS requires it; emulators may not check).
    await this.sqs.send(
      new SetQueueAttributesCommand({
        QueueUrl: queueUrl,
        Attributes: {
          ...attributes,
          Policy: JSON.stringify({
            Version: '2012-10-17',
            Statement: [
              {
                Effect: 'Allow',
                Principal: { Service: 'sns.amazonaws.com' },
                Action: 'sqs:SendMessage',
                Resource: queueArn,
                Condition: { ArnEquals: { 'aws:SourceArn': topicArn } },
              },
            ],
          }),
        },
      }),
    )
    await this.subscribe(topicArn, queueArn, filterPolicy(topology.patterns))
    return { queueUrl, deadLetterUrl }
  }

  private async createQueue(
    name: string,
    attributes: Record<string, string>,
    tags: Record<string, string> | undefined,
  ): Promise<string> {
    // FifoQueue can only be given at creation: never part of an update.
    const creation = this.names.fifo ? { ...attributes, FifoQueue: 'true' } : attributes
    try {
      const out = await this.sqs.send(
        new CreateQueueCommand({ QueueName: name, Attributes: creation, ...(tags ? { tags } : {}) }),
      )
      const url = out.QueueUrl!
      this.urls.set(name, Promise.resolve(url))
      return url
    } catch (error) {
      // An existing queue with other attributes: keep it, update what may change.
      if ((error as Error)?.name !== 'QueueNameExists' && (error as Error)?.name !== 'QueueAlreadyExists')
        throw error
      const url = await this.queueUrl(name)
      if (Object.keys(attributes).length > 0) {
        await this.sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: attributes }))
      }
      return url
    }
  }

  /** Every queue URL of this namespace (both modes, DLQs included). */
  async listQueueUrls(): Promise<string[]> {
    const urls: string[] = []
    let nextToken: string | undefined
    do {
      const out = await this.sqs.send(
        new ListQueuesCommand({
          QueueNamePrefix: `${this.names.namespace}-`,
          MaxResults: 1000,
          NextToken: nextToken,
        }),
      )
      urls.push(...(out.QueueUrls ?? []))
      nextToken = out.NextToken
    } while (nextToken)
    return urls
  }

  /** Removes a group: its subscription, its queue and its dead-letter queue; what is gone already is skipped. */
  async removeGroup(group: string): Promise<void> {
    const queueName = this.names.groupQueue(group)
    try {
      const queueUrl = await this.queueUrl(queueName)
      const subscription = await this.findSubscription(await this.topic(), await this.queueArn(queueUrl))
      if (subscription?.SubscriptionArn && subscription.SubscriptionArn !== 'PendingConfirmation') {
        await this.sns.send(new UnsubscribeCommand({ SubscriptionArn: subscription.SubscriptionArn }))
      }
    } catch (error) {
      if (!isMissingQueue(error)) throw error
    }
    await this.deleteQueue(queueName)
    await this.deleteQueue(this.names.deadLetterQueue(group))
  }

  async deleteQueue(name: string): Promise<void> {
    try {
      await this.sqs.send(new DeleteQueueCommand({ QueueUrl: await this.queueUrl(name) }))
    } catch (error) {
      if (!isMissingQueue(error)) throw error
    } finally {
      this.forget(name)
    }
  }

  private async queueArn(url: string): Promise<string> {
    const out = await this.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }),
    )
    return out.Attributes!.QueueArn!
  }

  /** One subscription per queue: created with raw delivery, its filter policy updated when patterns change. */
  private async subscribe(topicArn: string, queueArn: string, policy: string | undefined): Promise<void> {
    const existing = await this.findSubscription(topicArn, queueArn)
    if (existing?.SubscriptionArn && existing.SubscriptionArn !== 'PendingConfirmation') {
      await this.sns.send(
        new SetSubscriptionAttributesCommand({
          SubscriptionArn: existing.SubscriptionArn,
          AttributeName: 'FilterPolicy',
          AttributeValue: policy ?? '{}',
        }),
      )
      return
    }
    await this.sns.send(
      new SubscribeCommand({
        TopicArn: topicArn,
        Protocol: 'sqs',
        Endpoint: queueArn,
        Attributes: { RawMessageDelivery: 'true', ...(policy ? { FilterPolicy: policy } : {}) },
      }),
    )
  }

  /** The topic's subscription of a queue, looked for through every page of the listing. */
  private async findSubscription(topicArn: string, queueArn: string): Promise<Subscription | undefined> {
    let nextToken: string | undefined
    do {
      const listed = await this.sns.send(
        new ListSubscriptionsByTopicCommand({ TopicArn: topicArn, NextToken: nextToken }),
      )
      const found = listed.Subscriptions?.find((subscription) => subscription.Endpoint === queueArn)
      if (found) return found
      nextToken = listed.NextToken
    } while (nextToken)
    return undefined
  }
}

/**
 * SNS filter policy on the `type` attribute: exact names, and a prefix for a pattern whose first
 * words are literal (`order.*` → prefix `order.`). A pattern that starts with a wildcard matches
 * anything SNS can express: no policy, and core filters exactly (G3).
 */
export function filterPolicy(patterns: readonly string[]): string | undefined {
  const conditions: (string | { prefix: string })[] = []
  for (const pattern of patterns) {
    const words = pattern.split('.')
    const firstWildcard = words.findIndex((word) => word === '*' || word === '#')
    if (firstWildcard === -1) conditions.push(pattern)
    else if (firstWildcard === 0) return undefined
    else
      conditions.push({
        prefix: `${words.slice(0, firstWildcard).join('.')}${words[firstWildcard] === '#' ? '' : '.'}`,
      })
  }
  return JSON.stringify({ type: conditions })
}

export function isMissingQueue(error: unknown): boolean {
  return (
    error instanceof QueueDoesNotExist ||
    (error as Error)?.name === 'QueueDoesNotExist' ||
    (error as Error)?.name === 'AWS.SimpleQueueService.NonExistentQueue'
  )
}
