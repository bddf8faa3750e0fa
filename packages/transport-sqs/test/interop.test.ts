import { ListTopicsCommand, SubscribeCommand } from '@aws-sdk/client-sns'
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs'
import { createBus, PublishError, silentLogger } from '@tidings/core'
import { waitUntil } from '@tidings/testkit'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { deleteNamespace, makeTransport, randomNamespace, rawSns, rawSqs } from './support.js'

describe('SQS and SNS as other AWS clients see them', () => {
  let namespace = ''
  beforeEach(() => {
    namespace = randomNamespace()
  })
  afterEach(() => deleteNamespace(namespace))

  it('lets a plain SDK consumer read a Tidings event: raw CloudEvents JSON with its name as an attribute', async () => {
    const bus = createBus({ service: 'shop', transport: makeTransport(namespace), logger: silentLogger })
    await bus.start()
    const sqs = rawSqs()
    const sns = rawSns()
    const topics = await sns.send(new ListTopicsCommand({}))
    const topicArn = topics.Topics!.find((topic) => topic.TopicArn!.endsWith(`:${namespace}-events`))!
      .TopicArn!
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `${namespace}-plain-reader` }))
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
    )
    await sns.send(
      new SubscribeCommand({
        TopicArn: topicArn,
        Protocol: 'sqs',
        Endpoint: Attributes!.QueueArn!,
        Attributes: { RawMessageDelivery: 'true' },
      }),
    )
    const sent = await bus.publish('order.placed', { orderId: 'o-1' }, { key: 'o-1' })
    let body: string | undefined
    let attributes: Record<string, { StringValue?: string }> = {}
    await waitUntil(
      async () => {
        const out = await sqs.send(
          new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 1, MessageAttributeNames: ['All'] }),
        )
        body = out.Messages?.[0]?.Body
        attributes = out.Messages?.[0]?.MessageAttributes ?? {}
        return body !== undefined
      },
      { timeoutMs: 10_000, what: 'the event in a plain queue' },
    )
    expect(JSON.parse(body!)).toMatchObject({
      specversion: '1.0',
      id: sent.id,
      type: 'order.placed',
      data: { orderId: 'o-1' },
    })
    expect(attributes.type?.StringValue).toBe('order.placed')
    expect(attributes.key?.StringValue).toBe('o-1')
    await bus.close()
    sqs.destroy()
    sns.destroy()
  })

  it("sends a garbage body a plain client put in a group's queue to its dead letters as a decode error", async () => {
    const bus = createBus({ service: 'shop', transport: makeTransport(namespace), logger: silentLogger })
    const handled: string[] = []
    bus.listen('order.placed', (event) => void handled.push(event.id), { name: 'audit' })
    await bus.start()
    const sqs = rawSqs()
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: `${namespace}-shop-audit` }))
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'not json at all {' }))
    const sent = await bus.publish('order.placed', { orderId: 'o-2' })
    const dlq = bus.deadLetters('shop-audit')
    await waitUntil(async () => (await dlq.count()) === 1 && handled.length === 1, {
      timeoutMs: 10_000,
      what: 'one dead letter and one handled event',
    })
    const [letter] = await dlq.list({ limit: 10 })
    expect(letter!.body.toString()).toBe('not json at all {')
    expect(letter!.history.at(-1)!.error.name).toBe('DecodeError')
    expect(handled).toEqual([sent.id])
    await bus.close()
    sqs.destroy()
  })

  it("refuses an event over SNS's limit before sending anything, naming whose limit it is", async () => {
    // 256 KiB include the attributes, so the transport takes 240 KiB of event.
    expect(() =>
      createBus({ service: 'shop', transport: makeTransport(namespace), maxEventBytes: 1024 * 1024 }),
    ).toThrow(/above what the sqs transport takes \(245760 bytes\)/)
    const bus = createBus({ service: 'shop', transport: makeTransport(namespace), logger: silentLogger })
    await bus.start()
    const oversized = bus.publish('order.placed', { blob: 'x'.repeat(250 * 1024) })
    await expect(oversized).rejects.toThrow(PublishError)
    await expect(oversized).rejects.toThrow(/the sqs transport's maximum/)
    await bus.close()
  })
})
