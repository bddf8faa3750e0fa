import type { JsMsg } from '@nats-io/jetstream'

/**
 * Writes every ack asked for in one tick together. nats.js flushes its socket in a microtask after
 * the first command it buffers; core settles each delivery in its own chain of microtasks, so acks
 * sent as they come would each flush alone (a write per ack: a third of the consume CPU). Gathered
 * until process.nextTick, they leave in one write. An ack is a fire-and-forget publish either way.
 */
export class AckBatcher {
  private pending: JsMsg[] = []

  constructor(private readonly onError: (error: unknown, count: number) => void) {}

  ack(message: JsMsg): void {
    if (this.pending.push(message) === 1) process.nextTick(this.send)
  }

  private readonly send = (): void => {
    const messages = this.pending
    this.pending = []
    let failed = 0
    let lastError: unknown
    for (const message of messages) {
      // A closed connection throws: the message is redelivered after ack_wait (a duplicate, never a loss).
      try {
        message.ack()
      } catch (error) {
        failed += 1
        lastError = error
      }
    }
    if (failed > 0) this.onError(lastError, failed)
  }
}
