/**
 * `npm run bench -- sqs`: SNS + SQS through Tidings (createBus + sqsTransport) and through the raw AWS
 * SDK v3, in the same run, on the fauxqs emulator started in-process (the emulator is the ceiling
 * here, not AWS). Same messages on both sides: 1 KiB CloudEvents JSON with the event name as a
 * message attribute, one SNS topic, one SQS queue subscribed with raw delivery. Raw, twice: batches of 10
 * (PublishBatch, the fair comparison) and one awaited Publish per event (the naive client); consumers receive batches of 10 with long polling and delete each batch.
 * Tidings: publishes of a tick go out as PublishBatch; a listener with concurrency 100.
 */
import { randomUUID } from 'node:crypto'
import {
  CreateTopicCommand,
  PublishBatchCommand,
  PublishCommand,
  SNSClient,
  SubscribeCommand,
} from '@aws-sdk/client-sns'
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs'
import { createBus, silentLogger } from '@tidings/core'
import { sqsTransport } from '@tidings/transport-sqs'
import { startFauxqs } from 'fauxqs'
import { makePayload, median, now, rawCloudEvent, slidingWindow, until } from './harness.js'

const EVENTS = Number(process.env.BENCH_EVENTS ?? 3_000)
const RUNS = Number(process.env.BENCH_RUNS ?? 3)
const WINDOWS = [10, 100] as const
const TYPE = 'bench.order.placed'
const REGION = 'us-east-1'
const CREDENTIALS = { accessKeyId: 'bench', secretAccessKey: 'bench' }

async function raw(endpoint: string, window: number, batched: boolean): Promise<number> {
  const config = { region: REGION, endpoint, credentials: CREDENTIALS }
  const sns = new SNSClient(config)
  const sqs = new SQSClient(config)
  const namespace = `benchraw${randomUUID().slice(0, 8)}`
  const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: `${namespace}-events` }))
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `${namespace}-group` }))
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
  )
  await sns.send(
    new SubscribeCommand({
      TopicArn,
      Protocol: 'sqs',
      Endpoint: Attributes!.QueueArn!,
      Attributes: { RawMessageDelivery: 'true' },
    }),
  )
  let handled = 0
  let running = true
  const receiver = async (): Promise<void> => {
    while (running) {
      const out = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 1,
          MessageAttributeNames: ['All'],
        }),
      )
      const messages = out.Messages ?? []
      for (const message of messages) {
        JSON.parse(message.Body!)
        handled += 1
      }
      if (messages.length > 0) {
        await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl,
            Entries: messages.map((message, index) => ({
              Id: String(index),
              ReceiptHandle: message.ReceiptHandle!,
            })),
          }),
        )
      }
    }
  }
  const receivers = Array.from({ length: 4 }, receiver)
  const payload = makePayload(1024)
  const started = now()
  const attributes = { type: { DataType: 'String', StringValue: TYPE } }
  if (batched) {
    // The best a hand-written publisher does: batches of 10, window / 10 batches in flight.
    await slidingWindow(Math.max(1, window / 10), { count: Math.ceil(EVENTS / 10) }, () =>
      sns.send(
        new PublishBatchCommand({
          TopicArn,
          PublishBatchRequestEntries: Array.from({ length: 10 }, (_, index) => ({
            Id: String(index),
            Message: rawCloudEvent(TYPE, payload).body,
            MessageAttributes: attributes,
          })),
        }),
      ),
    )
  } else {
    await slidingWindow(window, { count: EVENTS }, () =>
      sns.send(
        new PublishCommand({
          TopicArn,
          Message: rawCloudEvent(TYPE, payload).body,
          MessageAttributes: attributes,
        }),
      ),
    )
  }
  await until(() => handled >= EVENTS, 120_000, 'raw end-to-end')
  const rate = (EVENTS / (now() - started)) * 1000
  running = false
  await Promise.allSettled(receivers)
  sns.destroy()
  sqs.destroy()
  return rate
}

async function tidings(endpoint: string, window: number): Promise<number> {
  const namespace = `benchtd${randomUUID().slice(0, 8)}`
  const options = { region: REGION, endpoint, credentials: CREDENTIALS, namespace, waitTimeSeconds: 1 }
  const consumer = createBus({ service: 'bench', transport: sqsTransport(options), logger: silentLogger })
  let handled = 0
  consumer.listen(
    TYPE,
    () => {
      handled += 1
    },
    { name: 'group', concurrency: 100, retry: false },
  )
  await consumer.start()
  const publisher = createBus({ service: 'bench', transport: sqsTransport(options), logger: silentLogger })
  const payload = makePayload(1024)
  const started = now()
  await slidingWindow(window, { count: EVENTS }, () => publisher.publish(TYPE, payload))
  await until(() => handled >= EVENTS, 120_000, 'Tidings end-to-end')
  const rate = (EVENTS / (now() - started)) * 1000
  await publisher.close()
  await consumer.close()
  return rate
}

export async function main(): Promise<void> {
  const startedAt = Date.now()
  const server = await startFauxqs({ port: 0, logger: false, host: '127.0.0.1' })
  const endpoint = `http://127.0.0.1:${server.port}`
  try {
    await raw(endpoint, 10, true) // warm-up
    await tidings(endpoint, 10)
    const rows: string[] = []
    const pct = (value: number) => `${Math.round(value * 100)} %`
    const rate = (values: number[]) => Math.round(median(values)).toLocaleString('en-US')
    for (const window of WINDOWS) {
      const sides = { tidings: [] as number[], batched: [] as number[], single: [] as number[] }
      const ratios: number[] = []
      for (let run = 0; run < RUNS; run += 1) {
        // Rotate who goes first so a warming emulator favours no side.
        const order = (['tidings', 'batched', 'single'] as const).map(
          (_, index, all) => all[(index + run) % all.length]!,
        )
        const measured: Partial<Record<keyof typeof sides, number>> = {}
        for (const side of order) {
          measured[side] =
            side === 'tidings'
              ? await tidings(endpoint, window)
              : await raw(endpoint, window, side === 'batched')
          sides[side].push(measured[side]!)
        }
        ratios.push(measured.tidings! / measured.batched!)
      }
      rows.push(
        `| end-to-end publish → handle → delete | ${window} | ${rate(sides.tidings)} | ${rate(sides.batched)} | ${rate(sides.single)} | ${pct(median(ratios))} (${pct(Math.min(...ratios))}–${pct(Math.max(...ratios))}) |`,
      )
    }
    console.log(
      `\n### SNS + SQS on the fauxqs emulator (in-process), ${EVENTS.toLocaleString('en-US')} events of 1 KiB per run, median of ${RUNS} runs; ${Math.round((Date.now() - startedAt) / 1000)} s\n`,
    )
    console.log(
      '| measure | in flight | Tidings msgs/s | raw SDK, PublishBatch msgs/s | raw SDK, Publish msgs/s | Tidings / raw PublishBatch (range) |',
    )
    console.log('|---|---:|---:|---:|---:|---:|')
    for (const row of rows) console.log(row)
  } finally {
    await server.stop()
  }
}
