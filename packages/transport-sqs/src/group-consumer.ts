import {
  ChangeMessageVisibilityCommand,
  DeleteMessageBatchCommand,
  type Message,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs'
import {
  type AttemptFailure,
  backOffDelay,
  Credits,
  type DeadLetterInstruction,
  type Delivery,
  type DeliveryHandler,
  type Logger,
  parseJsonSafely,
  type RetryInstruction,
  SettleOnce,
  Sleeper,
  type SubscribeOptions,
  type Subscription,
} from '@tidings/core/transport'
import {
  carriedAttributes,
  fifoFields,
  MAX_DELAY_SECONDS,
  MAX_VISIBILITY_SECONDS,
  numberAttribute,
  receivedAttempt,
} from './message-fields.js'
import { ATTRIBUTE } from './names.js'
import { REQUEST_BACK_OFF } from './request-back-off.js'

/** How long stop() lets a ReceiveMessage in flight answer before aborting it. */
const STOP_GRACE_MS = 2_000
/** Spacing of ReceiveMessage retries while SQS is unreachable or refusing. */
/** A delete is tried this often before its event is left to come back after the visibility timeout. */
const DELETE_ATTEMPTS = 4

export interface ConsumerDependencies {
  readonly sqs: SQSClient
  readonly queueUrl: string
  readonly deadLetterUrl: string
  readonly visibilitySeconds: number
  readonly waitTimeSeconds: number
  readonly fifo: boolean
  readonly logger: () => Logger
}

/**
 * One subscription: long-polling receivers that ask for no more messages than free slots
 * (concurrency), so core never holds more than `concurrency` unsettled deliveries (G9). Acks of one
 * tick leave as DeleteMessageBatch calls.
 */
export class GroupConsumer implements Subscription {
  private running = true
  private readonly credits: Credits
  private readonly sleeper = new Sleeper()
  private readonly aborts = new Set<AbortController>()
  private readonly loops: Promise<void>[] = []
  private deletes: { handle: string; done: () => void }[] = []
  private deleteScheduled = false
  private readonly givingBack = new Set<Promise<void>>()
  /** The last receive came back full: the queue likely holds more, so the extra receivers poll too. */
  private backlog = false
  private readonly backlogWaiters = new Set<() => void>()

  constructor(
    private readonly deps: ConsumerDependencies,
    readonly subscription: SubscribeOptions,
    private readonly onDelivery: DeliveryHandler,
  ) {
    this.credits = new Credits(subscription.concurrency)
  }

  start(): void {
    const receivers = Math.min(4, Math.ceil(this.subscription.concurrency / 10))
    for (let index = 0; index < receivers; index += 1) this.loops.push(this.receiveLoop(index === 0))
  }

  /**
   * Stops receiving. A ReceiveMessage in flight may already hold messages for this process, so it
   * gets up to 2 s to answer (its messages are given back at once) before it is aborted; messages an
   * aborted receive held come back after the visibility timeout (ackTimeoutMs).
   */
  async stop(): Promise<void> {
    this.running = false
    this.credits.wake()
    this.sleeper.wakeAll()
    this.noteBacklog(true) // wakes the parked receivers so they end
    const loops = Promise.allSettled(this.loops)
    const timer = setTimeout(() => {
      for (const abort of this.aborts) abort.abort()
    }, STOP_GRACE_MS)
    await loops
    clearTimeout(timer)
    await Promise.allSettled([...this.givingBack])
  }

  /**
   * One receiver always polls; the others only while receives come back full. Parked long polls
   * are not free: a message wakes every receiver waiting on the queue, and all but one come back
   * empty (more requests, more latency for a trickle).
   */
  private async receiveLoop(always: boolean): Promise<void> {
    let failures = 0
    while (this.running) {
      if (!always && !this.backlog) {
        await new Promise<void>((resolve) => this.backlogWaiters.add(resolve))
        continue
      }
      await this.credits.waitFor(1, () => !this.running)
      if (!this.running) break
      const asked = Math.min(10, this.credits.free)
      this.credits.request(asked)
      const abort = new AbortController()
      this.aborts.add(abort)
      let messages: Message[] = []
      try {
        const out = await this.deps.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: this.deps.queueUrl,
            MaxNumberOfMessages: asked,
            WaitTimeSeconds: this.deps.waitTimeSeconds,
            MessageAttributeNames: ['All'],
            MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
          }),
          {
            abortSignal: AbortSignal.any([
              abort.signal,
              AbortSignal.timeout((this.deps.waitTimeSeconds + 10) * 1000),
            ]),
          },
        )
        messages = out.Messages ?? []
        failures = 0
        this.noteBacklog(messages.length === asked)
      } catch (error) {
        failures += 1
        if (this.running) {
          this.deps
            .logger()
            .debug({ error: (error as Error)?.message }, 'sqs: ReceiveMessage failed; trying again')
        }
      } finally {
        this.aborts.delete(abort)
      }
      this.credits.unfilled(asked - messages.length)
      if (failures > 0 && this.running) await this.sleeper.sleep(backOffDelay(failures, REQUEST_BACK_OFF))
      for (const message of messages) {
        if (!this.running) {
          // Stopped while receiving: give it back at once (stop() waits for it).
          const givingBack = this.changeVisibility(message.ReceiptHandle!, 0)
          this.givingBack.add(givingBack)
          void givingBack.finally(() => this.givingBack.delete(givingBack))
          this.credits.arrived(false)
          continue
        }
        this.credits.arrived(this.accept(message))
      }
    }
  }

  private noteBacklog(full: boolean): void {
    this.backlog = full
    if (!full) return
    for (const wake of this.backlogWaiters) wake()
    this.backlogWaiters.clear()
  }

  /** Hands a message to core, or hides it again until due; true when core holds it. */
  private accept(message: Message): boolean {
    const attributes = message.MessageAttributes ?? {}
    const dueAt = numberAttribute(attributes[ATTRIBUTE.dueAt])
    const remainingMs = dueAt === undefined ? 0 : dueAt - Date.now()
    if (remainingMs > 1000) {
      // A delay beyond SQS's 15 minutes: hidden again until due (12 hours at most per receive).
      void this.changeVisibility(
        message.ReceiptHandle!,
        Math.min(MAX_VISIBILITY_SECONDS, Math.ceil(remainingMs / 1000)),
      )
      return false
    }
    void this.onDelivery(new SqsDelivery(this, message))
    return true
  }

  /** A delivery settled (or was given back): its slot is free. */
  freeSlot(): void {
    this.credits.settled()
  }

  get group(): string {
    return this.subscription.group
  }
  get logger(): Logger {
    return this.deps.logger()
  }
  get sqs(): SQSClient {
    return this.deps.sqs
  }
  get queueUrl(): string {
    return this.deps.queueUrl
  }
  get deadLetterUrl(): string {
    return this.deps.deadLetterUrl
  }
  get visibilitySeconds(): number {
    return this.deps.visibilitySeconds
  }
  get fifo(): boolean {
    return this.deps.fifo
  }

  /** Deletes of one tick go out as batches of 10. */
  delete(handle: string): Promise<void> {
    return new Promise((resolve) => {
      this.deletes.push({ handle, done: resolve })
      if (!this.deleteScheduled) {
        this.deleteScheduled = true
        process.nextTick(() => {
          this.deleteScheduled = false
          const pending = this.deletes
          this.deletes = []
          for (let start = 0; start < pending.length; start += 10)
            void this.deleteBatch(pending.slice(start, start + 10))
        })
      }
    })
  }

  /**
   * Entries SQS failed on its side (throttling, internal errors) or a request that failed as a whole
   * are sent again a few times: each delete that never happens is a duplicate delivery later.
   */
  private async deleteBatch(batch: { handle: string; done: () => void }[]): Promise<void> {
    let pending = batch
    for (let attempt = 1; pending.length > 0; attempt += 1) {
      let failed: typeof pending = []
      let reason: string | undefined
      try {
        const out = await this.deps.sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: this.deps.queueUrl,
            Entries: pending.map((entry, index) => ({ Id: String(index), ReceiptHandle: entry.handle })),
          }),
        )
        for (const failure of out.Failed ?? []) {
          const entry = pending[Number(failure.Id)]
          // A sender fault (a receipt handle that expired) will not succeed later.
          if (entry && !failure.SenderFault) failed.push(entry)
          reason ??= `${failure.Code ?? 'error'} ${failure.Message ?? ''}`
        }
        for (const entry of pending) if (!failed.includes(entry)) entry.done()
      } catch (error) {
        failed = pending
        reason = (error as Error)?.message
      }
      pending = failed
      if (pending.length === 0) return
      if (attempt >= DELETE_ATTEMPTS) {
        // At-least-once: a delete that failed means a redelivery after the visibility timeout.
        this.deps
          .logger()
          .debug({ failed: pending.length, reason }, 'sqs: deletes failed; those events come back')
        for (const entry of pending) entry.done()
        return
      }
      await this.sleeper.sleep(backOffDelay(attempt, REQUEST_BACK_OFF))
    }
  }

  changeVisibility(handle: string, seconds: number): Promise<void> {
    return this.deps.sqs
      .send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: this.deps.queueUrl,
          ReceiptHandle: handle,
          VisibilityTimeout: seconds,
        }),
      )
      .then(
        () => undefined,
        (error: unknown) => {
          this.deps
            .logger()
            .debug({ error: (error as Error)?.message }, 'sqs: ChangeMessageVisibility failed')
        },
      )
  }
}

class SqsDelivery implements Delivery {
  private readonly settlement = new SettleOnce()
  readonly attempt: number
  readonly history: readonly AttemptFailure[]
  readonly redelivered: boolean

  constructor(
    private readonly consumer: GroupConsumer,
    private readonly message: Message,
  ) {
    const received = receivedAttempt(message)
    this.attempt = received.attempt
    this.redelivered = received.redelivered
    const history = tryParse(message.MessageAttributes?.[ATTRIBUTE.history]?.StringValue ?? '[]')
    this.history = Array.isArray(history) ? (history as AttemptFailure[]) : []
  }

  get body(): Buffer {
    return Buffer.from(this.message.Body ?? '', 'utf8')
  }
  get text(): string {
    return this.message.Body ?? ''
  }

  private claim(operation: string): boolean {
    if (!this.settlement.claim(operation, this.consumer.logger, this.consumer.group)) return false
    this.consumer.freeSlot()
    return true
  }

  async ack(): Promise<void> {
    if (this.claim('ack')) await this.consumer.delete(this.message.ReceiptHandle!)
  }

  async release(): Promise<void> {
    if (this.claim('release')) await this.consumer.changeVisibility(this.message.ReceiptHandle!, 0)
  }

  async extendLease(): Promise<void> {
    if (!this.settlement.settled) {
      await this.consumer.changeVisibility(this.message.ReceiptHandle!, this.consumer.visibilitySeconds)
    }
  }

  async retry(instruction: RetryInstruction): Promise<void> {
    if (!this.claim('retry')) return
    const delaySeconds = Math.ceil(instruction.delayMs / 1000)
    if (this.consumer.fifo) {
      // The same message hidden until due keeps its key's place; the next receive counts the attempt.
      await this.consumer.changeVisibility(
        this.message.ReceiptHandle!,
        Math.min(MAX_VISIBILITY_SECONDS, delaySeconds),
      )
      return
    }
    const attributes: Record<string, MessageAttributeValue> = {
      ...carriedAttributes(this.message),
      [ATTRIBUTE.attempt]: { DataType: 'Number', StringValue: String(instruction.attempt) },
      [ATTRIBUTE.history]: { DataType: 'String', StringValue: JSON.stringify(instruction.history) },
    }
    if (delaySeconds > MAX_DELAY_SECONDS) {
      attributes[ATTRIBUTE.dueAt] = {
        DataType: 'Number',
        StringValue: String(Date.now() + instruction.delayMs),
      }
    }
    // The copy first, then the original: a crash in between means a duplicate, never a loss.
    await this.consumer.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.consumer.queueUrl,
        MessageBody: this.message.Body ?? '',
        DelaySeconds: Math.min(MAX_DELAY_SECONDS, delaySeconds),
        MessageAttributes: attributes,
      }),
    )
    await this.consumer.delete(this.message.ReceiptHandle!)
  }

  async deadLetter(record: DeadLetterInstruction): Promise<void> {
    if (!this.claim('deadLetter')) return
    await this.consumer.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.consumer.deadLetterUrl,
        MessageBody: this.message.Body ?? '',
        // A group of its own in FIFO mode, so listing the dead letters is never held up by a key.
        ...fifoFields(this.consumer.fifo, { id: record.id }, 'fresh'),
        MessageAttributes: {
          ...carriedAttributes(this.message),
          [ATTRIBUTE.id]: { DataType: 'String', StringValue: record.id },
          [ATTRIBUTE.reason]: { DataType: 'String', StringValue: record.reason.slice(0, 1000) || 'unknown' },
          [ATTRIBUTE.history]: { DataType: 'String', StringValue: JSON.stringify(record.history) },
          [ATTRIBUTE.deadLetteredAt]: { DataType: 'String', StringValue: new Date().toISOString() },
        },
      }),
    )
    await this.consumer.delete(this.message.ReceiptHandle!)
  }
}

function tryParse(text: string): unknown {
  try {
    return parseJsonSafely(text)
  } catch {
    return undefined
  }
}
