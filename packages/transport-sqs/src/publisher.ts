import { PublishBatchCommand, type SNSClient } from '@aws-sdk/client-sns'
import { backOffDelay, type Logger, type OutgoingMessage, PublishError } from '@tidings/core/transport'
import { eventAttributes, fifoFields } from './message-fields.js'
import { SQS_MESSAGE_LIMIT } from './options.js'
import { REQUEST_BACK_OFF } from './request-back-off.js'

interface Pending {
  readonly message: OutgoingMessage
  readonly resolve: () => void
  readonly reject: (error: Error) => void
}

/** SNS takes at most 10 entries per PublishBatch, and 256 KiB for all of them together. */
const BATCH = 10
const BATCH_BYTES = SQS_MESSAGE_LIMIT

/**
 * Publishes of one tick leave as PublishBatch calls of up to 10; each publish() resolves on SNS's
 * answer for its own entry, so a batch with partial failures rejects exactly the events that failed.
 * Through an outage a batch is sent again (same entries) until publishTimeoutMs, then rejects.
 */
export class Publisher {
  private queued: Pending[] = []
  private scheduled = false

  constructor(
    private readonly sns: SNSClient,
    private readonly topicArn: () => Promise<string>,
    private readonly publishTimeoutMs: number,
    private readonly fifo: boolean,
    private readonly logger: () => Logger,
  ) {}

  publish(message: OutgoingMessage): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queued.push({ message, resolve, reject })
      if (!this.scheduled) {
        this.scheduled = true
        process.nextTick(this.flush)
      }
    })
  }

  private readonly flush = (): void => {
    this.scheduled = false
    const queued = this.queued
    this.queued = []
    let batch: Pending[] = []
    let bytes = 0
    for (const pending of queued) {
      const size = entryBytes(pending.message)
      if (batch.length === BATCH || (batch.length > 0 && bytes + size > BATCH_BYTES)) {
        void this.send(batch)
        batch = []
        bytes = 0
      }
      batch.push(pending)
      bytes += size
    }
    if (batch.length > 0) void this.send(batch)
  }

  private async send(batch: Pending[]): Promise<void> {
    const deadline = Date.now() + this.publishTimeoutMs
    let pending = batch
    let lastError: unknown
    for (let attempt = 1; pending.length > 0 && Date.now() < deadline; attempt += 1) {
      try {
        const topicArn = await this.topicArn()
        const out = await this.sns.send(
          new PublishBatchCommand({
            TopicArn: topicArn,
            PublishBatchRequestEntries: pending.map((entry, index) => ({
              Id: String(index),
              Message: entry.message.text,
              MessageAttributes: eventAttributes(entry.message.type, entry.message.key),
              // Sent again after an outage with the same deduplication id: SNS FIFO keeps one.
              ...fifoFields(this.fifo, entry.message, 'event'),
            })),
          }),
          { abortSignal: AbortSignal.timeout(Math.max(1, deadline - Date.now())) },
        )
        for (const success of out.Successful ?? []) pending[Number(success.Id)]?.resolve()
        const retry: Pending[] = []
        for (const failure of out.Failed ?? []) {
          const entry = pending[Number(failure.Id)]
          if (!entry) continue
          if (failure.SenderFault) {
            entry.reject(
              new PublishError(
                `SNS refused "${entry.message.type}" (${entry.message.id}): ${failure.Code ?? 'error'} ${failure.Message ?? ''}. It was not published.`,
              ),
            )
          } else retry.push(entry) // throttling, internal errors: try again within the deadline
        }
        pending = retry
        lastError = out.Failed?.[0]?.Message
      } catch (error) {
        lastError = error
        this.logger().debug({ error: (error as Error)?.message }, 'sqs: PublishBatch failed; trying again')
      }
      if (pending.length > 0) {
        await new Promise((resolve) =>
          setTimeout(
            resolve,
            Math.min(backOffDelay(attempt, REQUEST_BACK_OFF), Math.max(0, deadline - Date.now())),
          ),
        )
      }
    }
    for (const entry of pending) {
      entry.reject(
        new PublishError(
          `SNS did not accept "${entry.message.type}" (${entry.message.id}) within publishTimeoutMs=${this.publishTimeoutMs} ms (${(lastError as Error)?.message ?? String(lastError)}): publish again, or raise publishTimeoutMs.`,
          { cause: lastError },
        ),
      )
    }
  }
}

/** What SNS counts of an entry toward the batch's 256 KiB: the body and the attributes' names, types and values. */
function entryBytes(message: OutgoingMessage): number {
  let bytes = message.byteLength
  for (const [name, value] of Object.entries(eventAttributes(message.type, message.key))) {
    bytes +=
      Buffer.byteLength(name) +
      Buffer.byteLength(value.DataType ?? '') +
      Buffer.byteLength(value.StringValue ?? '')
  }
  return bytes
}
