import type { JetStreamManager, StoredMsg } from '@nats-io/jetstream'
import { nuid } from '@nats-io/transport-node'
import type { StoredDeadLetter, TransportDeadLetters } from '@tidings/core/transport'
import { HEADER, readHeaderText, readHistory, retryHeaders } from './headers.js'
import type { JetStreamPublisher } from './publisher.js'
import type { NamespaceSubjects } from './subjects.js'

interface Found {
  readonly seq: number
  readonly deadLetter: StoredDeadLetter
}

/**
 * A group's dead letters: the messages on `<ns>.dead-letters.<group>` of the dead-letter stream.
 * Listing reads them by subject (STREAM.MSG.GET next_by_subj) and changes nothing stored.
 */
export class NatsDeadLetters implements TransportDeadLetters {
  constructor(
    private readonly jsm: JetStreamManager,
    private readonly publisher: JetStreamPublisher,
    private readonly subjects: NamespaceSubjects,
    private readonly group: string,
  ) {}

  private get subject(): string {
    return this.subjects.deadLetters(this.group)
  }

  async list({ limit }: { readonly limit: number }): Promise<StoredDeadLetter[]> {
    const found: StoredDeadLetter[] = []
    for await (const { deadLetter } of this.scan()) {
      if (found.length >= limit) break
      found.push(deadLetter)
    }
    return found
  }

  async count(): Promise<number> {
    const info = await this.jsm.streams.info(this.subjects.deadLettersStream, {
      subjects_filter: this.subject,
    })
    return info.state.subjects?.[this.subject] ?? 0
  }

  async replay(ids: readonly string[] | 'all'): Promise<number> {
    const wanted = ids === 'all' ? undefined : new Set(ids)
    const chosen: Found[] = []
    for await (const found of this.scan()) {
      if (wanted === undefined || wanted.has(found.deadLetter.id)) chosen.push(found)
    }
    let replayed = 0
    for (const { seq, deadLetter } of chosen) {
      // Back to this group only, through its retry lane: attempt 1, empty history, due now.
      await this.publisher.publish({
        subject: this.subjects.retry(this.group),
        payload: deadLetter.body,
        msgID: `replay:${this.group}:${seq}:${nuid.next()}`,
        headers: retryHeaders(1, [], Date.now(), false),
        what: () => `the replay of dead letter "${deadLetter.id}" to group "${this.group}"`,
      })
      await this.jsm.streams.deleteMessage(this.subjects.deadLettersStream, seq, false)
      replayed += 1
    }
    return replayed
  }

  async purge(): Promise<number> {
    const response = await this.jsm.streams.purge(this.subjects.deadLettersStream, { filter: this.subject })
    return response.purged
  }

  /** Oldest first, one request each: dead-letter queues are read by people and tools, not hot paths. */
  private async *scan(): AsyncGenerator<Found> {
    let seq = 1
    for (;;) {
      const message = await this.jsm.streams.getMessage(this.subjects.deadLettersStream, {
        seq,
        next_by_subj: this.subject,
      } as unknown as { seq: number })
      if (message === null) return
      yield { seq: message.seq, deadLetter: this.read(message) }
      seq = message.seq + 1
    }
  }

  private read(message: StoredMsg): StoredDeadLetter {
    const headers = message.header
    const data = message.data
    return {
      id: readHeaderText(headers.get(HEADER.id)) || `nats-${message.seq}`,
      group: this.group,
      body: Buffer.from(data.buffer, data.byteOffset, data.byteLength),
      history: readHistory(headers.get(HEADER.history)),
      reason: readHeaderText(headers.get(HEADER.reason)),
      deadLetteredAt: headers.get(HEADER.deadLetteredAt) || message.time.toISOString(),
    }
  }
}
