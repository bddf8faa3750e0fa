import { randomBytes } from 'node:crypto'
import { DeleteTopicCommand, ListTopicsCommand, PublishCommand, SNSClient } from '@aws-sdk/client-sns'
import { DeleteQueueCommand, ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs'
import { inject } from 'vitest'
import { type SqsTransportOptions, sqsTransport } from '../src/index.js'

declare module 'vitest' {
  export interface ProvidedContext {
    sqsEndpoint: string
  }
}

export const ENDPOINT = inject('sqsEndpoint')
export const REGION = 'us-east-1'
export const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' }

export function randomNamespace(): string {
  return `t${randomBytes(4).toString('hex')}`
}

export function testOptions(
  namespace: string,
  extra: Partial<SqsTransportOptions> = {},
): SqsTransportOptions {
  return {
    region: REGION,
    endpoint: ENDPOINT,
    credentials: CREDENTIALS,
    namespace,
    waitTimeSeconds: 1,
    ...extra,
  }
}

export const makeTransport = (namespace: string, extra: Partial<SqsTransportOptions> = {}) =>
  sqsTransport(testOptions(namespace, extra))

const clientConfig = { region: REGION, endpoint: ENDPOINT, credentials: CREDENTIALS }
export const rawSqs = () => new SQSClient(clientConfig)
export const rawSns = () => new SNSClient(clientConfig)

/** What a foreign publisher does: a plain SNS publish to the namespace's topic, with the event name. */
export async function publishRaw(namespace: string, type: string, body: string): Promise<void> {
  const sns = rawSns()
  const topics = await sns.send(new ListTopicsCommand({}))
  const topicArn = topics.Topics?.find((topic) => ownsTopic(namespace, topic.TopicArn))?.TopicArn
  if (!topicArn) throw new Error(`no topic for namespace ${namespace}`)
  const fifo = topicArn.endsWith('.fifo')
  await sns.send(
    new PublishCommand({
      TopicArn: topicArn,
      Message: body,
      MessageAttributes: { type: { DataType: 'String', StringValue: type } },
      ...(fifo ? { MessageGroupId: 'foreign', MessageDeduplicationId: randomBytes(8).toString('hex') } : {}),
    }),
  )
  sns.destroy()
}

export async function deleteNamespace(namespace: string): Promise<void> {
  const sqs = rawSqs()
  const sns = rawSns()
  const queues = await sqs.send(new ListQueuesCommand({ QueueNamePrefix: `${namespace}-` }))
  for (const url of queues.QueueUrls ?? []) {
    await sqs.send(new DeleteQueueCommand({ QueueUrl: url })).catch(() => {})
  }
  const topics = await sns.send(new ListTopicsCommand({}))
  for (const topic of topics.Topics ?? []) {
    if (ownsTopic(namespace, topic.TopicArn)) {
      await sns.send(new DeleteTopicCommand({ TopicArn: topic.TopicArn })).catch(() => {})
    }
  }
  sqs.destroy()
  sns.destroy()
}

/** The namespace's topic, standard or FIFO. */
function ownsTopic(namespace: string, arn: string | undefined): boolean {
  return arn?.endsWith(`:${namespace}-events`) === true || arn?.endsWith(`:${namespace}-events.fifo`) === true
}
