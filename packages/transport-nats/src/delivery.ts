import type { JsMsg } from '@nats-io/jetstream'
import { headers as newHeaders } from '@nats-io/transport-node'
import {
  type AttemptFailure,
  type DeadLetterInstruction,
  type Delivery,
  type Logger,
  type RetryInstruction,
  SettleOnce,
} from '@tidings/core/transport'
import type { AckBatcher } from './ack-batcher.js'
import { HEADER, headerJson, headerText, retryHeaders } from './headers.js'
import type { JetStreamPublisher } from './publisher.js'
import type { NamespaceSubjects } from './subjects.js'

export interface DeliveryDeps {
  readonly group: string
  readonly subjects: NamespaceSubjects
  readonly publisher: JetStreamPublisher
  readonly logger: Logger
  readonly acks: AckBatcher
}

/**
 * One JetStream message handed to core. A retry cannot change a NATS message, so it writes a copy
 * carrying the attempt and history to the group's retry subject, then acknowledges the original; a
 * dead letter is a copy on the group's dead-letter subject. Both copies are confirmed by the server
 * before the original goes, so a crash in between duplicates, never loses.
 */
export class NatsDelivery implements Delivery {
  readonly body: Buffer
  private readonly settlement = new SettleOnce()

  constructor(
    private readonly message: JsMsg,
    readonly attempt: number,
    readonly history: readonly AttemptFailure[],
    readonly redelivered: boolean,
    private readonly deps: DeliveryDeps,
  ) {
    const data = message.data
    this.body = Buffer.from(data.buffer, data.byteOffset, data.byteLength)
  }

  ack(): Promise<void> {
    if (this.settlement.claim('ack', this.deps.logger, this.deps.group)) this.deps.acks.ack(this.message)
    return Promise.resolve()
  }

  async retry(instruction: RetryInstruction): Promise<void> {
    if (!this.settlement.claim('retry', this.deps.logger, this.deps.group)) return
    const { group, subjects, publisher } = this.deps
    await publisher.publish({
      subject: subjects.retry(group),
      payload: this.message.data,
      // One copy per original message and attempt, however often this call is repeated.
      msgID: `retry:${group}:${this.message.seq}:${this.message.info.deliveryCount}:${instruction.attempt}`,
      headers: retryHeaders(
        instruction.attempt,
        instruction.history,
        Date.now() + instruction.delayMs,
        instruction.delayMs > 0,
      ),
      what: () => `the retry of a message of group "${group}"`,
    })
    this.message.ack()
  }

  async deadLetter(record: DeadLetterInstruction): Promise<void> {
    if (!this.settlement.claim('dead letter', this.deps.logger, this.deps.group)) return
    const { group, subjects, publisher } = this.deps
    const headers = newHeaders()
    headers.set(HEADER.id, headerText(record.id))
    headers.set(HEADER.group, group)
    headers.set(HEADER.reason, headerText(record.reason))
    headers.set(HEADER.history, headerJson(record.history))
    headers.set(HEADER.deadLetteredAt, new Date().toISOString())
    await publisher.publish({
      subject: subjects.deadLetters(group),
      payload: this.message.data,
      msgID: `dead-letter:${group}:${this.message.seq}:${this.message.info.deliveryCount}`,
      headers,
      what: () => `the dead letter of "${record.id}" for group "${group}"`,
    })
    this.message.ack()
  }

  release(): Promise<void> {
    // A nak redelivers at once; NATS counts it as a delivery, so the next attempt number is one higher.
    if (this.settlement.claim('release', this.deps.logger, this.deps.group))
      return attempt(() => this.message.nak())
    return Promise.resolve()
  }

  extendLease(): Promise<void> {
    if (this.settlement.settled) return Promise.resolve()
    return attempt(() => this.message.working())
  }
}

/** nats.js throws when the connection is closed: a rejected promise instead, which core logs. */
function attempt(write: () => void): Promise<void> {
  try {
    write()
    return Promise.resolve()
  } catch (error) {
    return Promise.reject(error)
  }
}
