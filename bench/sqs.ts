/**
 * `npm run bench -- sqs`: SNS + SQS through Tidings (createBus + sqsTransport) and through the raw AWS
 * SDK v3, in the same run, on the fauxqs emulator started in-process (the emulator is the ceiling
 * here, not AWS). Same messages on both sides: 1 KiB CloudEvents JSON with the event name as a
 * message attribute, one SNS topic, one SQS queue subscribed with raw delivery. Raw: one awaited SNS
 * Publish per event; consumers receive batches of 10 with long polling and delete each batch.
 * Tidings: publishes of a tick go out as PublishBatch; a listener with concurrency 100.
 */
import { randomUUID } from 'node:crypto'
import { CreateTopicCommand, PublishCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns'
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

async function raw(endpoint: string, window: number): Promise<number> {
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
  await slidingWindow(window, { count: EVENTS }, () => {
    const { body } = rawCloudEvent(TYPE, payload)
    return sns.send(
      new PublishCommand({
        TopicArn,
        Message: body,
        MessageAttributes: { type: { DataType: 'String', StringValue: TYPE } },
      }),
    )
  })
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
    await raw(endpoint, 10) // warm-up
    await tidings(endpoint, 10)
    const rows: string[] = []
    for (const window of WINDOWS) {
      const rawRates: number[] = []
      const tidingsRates: number[] = []
      const ratios: number[] = []
      for (let run = 0; run < RUNS; run += 1) {
        const first = run % 2 === 0
        const a = first ? await raw(endpoint, window) : await tidings(endpoint, window)
        const b = first ? await tidings(endpoint, window) : await raw(endpoint, window)
        const [rawRate, tidingsRate] = first ? [a, b] : [b, a]
        rawRates.push(rawRate)
        tidingsRates.push(tidingsRate)
        ratios.push(tidingsRate / rawRate)
      }
      const pct = (value: number) => `${Math.round(value * 100)} %`
      rows.push(
        `| end-to-end publish → handle → delete | ${window} | ${Math.round(median(tidingsRates)).toLocaleString('en-US')} | ${Math.round(median(rawRates)).toLocaleString('en-US')} | ${pct(median(ratios))} (${pct(Math.min(...ratios))}–${pct(Math.max(...ratios))}) |`,
      )
    }
    console.log(
      `\n### SNS + SQS on the fauxqs emulator (in-process), ${EVENTS.toLocaleString('en-US')} events of 1 KiB per run, median of ${RUNS} runs; ${Math.round((Date.now() - startedAt) / 1000)} s\n`,
    )
    console.log('| measure | in flight | Tidings msgs/s | raw AWS SDK msgs/s | Tidings / raw (range) |')
    console.log('|---|---:|---:|---:|---:|')
    for (const row of rows) console.log(row)
  } finally {
    await server.stop()
  }
}
