import type { Event } from '../envelope/envelope.js'
import { childLogger, type Logger } from '../observability/logger.js'
import type { HandlerContext, PublishOptions } from './listen-options.js'

type Publish = (type: string, data: unknown, options?: PublishOptions) => Promise<Event>

/** Built per delivery; the AbortController and the bound logger are made only if the handler asks. */
export class DeliveryContext implements HandlerContext {
  private controller: AbortController | undefined
  private abortReason: unknown
  private boundLogger: Logger | undefined

  constructor(
    private readonly event: Event,
    readonly attempt: number,
    readonly group: string,
    readonly redelivered: boolean,
    private readonly receivedAtMs: number,
    private readonly baseLogger: Logger,
    private readonly publishEvent: Publish,
  ) {}

  get receivedAt(): Date {
    return new Date(this.receivedAtMs)
  }

  get headers(): Readonly<Record<string, string>> {
    return this.event.headers
  }

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController()
      if (this.abortReason !== undefined) this.controller.abort(this.abortReason)
    }
    return this.controller.signal
  }

  get logger(): Logger {
    // The base logger is the listener's, bound to the group already: each key once per line.
    this.boundLogger ??= childLogger(this.baseLogger, {
      eventId: this.event.id,
      eventType: this.event.type,
      attempt: this.attempt,
    })
    return this.boundLogger
  }

  publish(type: string, data: unknown, options: PublishOptions = {}): Promise<Event> {
    return this.publishEvent(type, data, {
      ...options,
      causationId: options.causationId ?? this.event.id,
      correlationId: options.correlationId ?? this.event.correlationId ?? this.event.id,
    })
  }

  abort(reason: unknown): void {
    if (this.abortReason !== undefined) return
    this.abortReason = reason
    this.controller?.abort(reason)
  }
}
