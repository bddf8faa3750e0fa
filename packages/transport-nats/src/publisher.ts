import type { JetStreamClient, JetStreamPublishOptions, PubAck } from '@nats-io/jetstream'
import type { MsgHdrs } from '@nats-io/transport-node'
import { backOffDelay, PublishError, Sleeper } from '@tidings/core/transport'

export interface PublishRequest {
  readonly subject: string
  readonly payload: Uint8Array | string
  /** The server drops a second message with this id within the duplicate window: resends are safe. */
  readonly msgID: string
  readonly headers?: MsgHdrs
  /** What is being published, for an error message only (made lazily: publishing is the hot path). */
  readonly what: () => string
}

/** Longest wait for one PubAck before the same message (same msgID) is sent again. */
const ATTEMPT_TIMEOUT_MS = 5000

/**
 * Publishes and resolves on the PubAck only. Through an outage or a slow server it sends the same
 * message again with the same msgID (the server's duplicate window drops the extra copies) until
 * `publishTimeoutMs`, then rejects with PublishError. close() ends the waits at once.
 */
export class JetStreamPublisher {
  private readonly sleeper = new Sleeper()
  private closed = false

  constructor(
    private readonly js: JetStreamClient,
    private readonly publishTimeoutMs: number,
  ) {}

  async publish(request: PublishRequest): Promise<PubAck> {
    const deadline = Date.now() + this.publishTimeoutMs
    let lastError: unknown
    for (let attempt = 1; ; attempt += 1) {
      const remaining = deadline - Date.now()
      if (this.closed)
        throw new PublishError(`NATS did not confirm ${request.what()}: the transport was closed.`, {
          cause: lastError,
        })
      if (remaining <= 0) {
        throw new PublishError(
          `NATS did not confirm ${request.what()} within publishTimeoutMs (${this.publishTimeoutMs} ms)${lastError instanceof Error ? ` (last error: ${lastError.message})` : ''}: check that the server runs and has JetStream enabled; the event may or may not be stored.`,
          { cause: lastError },
        )
      }
      try {
        const options: Partial<JetStreamPublishOptions> = {
          msgID: request.msgID,
          timeout: Math.min(remaining, ATTEMPT_TIMEOUT_MS),
        }
        if (request.headers) options.headers = request.headers
        return await this.js.publish(request.subject, request.payload, options)
      } catch (error) {
        lastError = error
        if (isPermanent(error)) {
          throw new PublishError(`NATS refused ${request.what()}: ${(error as Error).message}.`, {
            cause: error,
          })
        }
        await this.sleeper.sleep(Math.min(backOffDelay(attempt), Math.max(0, deadline - Date.now())))
      }
    }
  }

  close(): void {
    this.closed = true
    this.sleeper.wakeAll()
  }
}

/** Errors that another attempt cannot fix. */
function isPermanent(error: unknown): boolean {
  const message = error instanceof Error ? error.message : ''
  return /maximum payload|max_payload|message size exceeds|permissions violation|authorization/i.test(message)
}
