import { createBus, fixed, type Logger, MemoryBroker, memoryTransport } from '@tidings/core'
import { describe, expect, it } from 'vitest'

interface Line {
  readonly level: string
  readonly message: string
  readonly bindings: Record<string, unknown>
  readonly fields: Record<string, unknown>
}

/** A pino-shaped logger that keeps child bindings apart from call fields, as pino's JSON would. */
function pinoLike(lines: Line[], bindings: Record<string, unknown> = {}): Logger {
  const log =
    (level: string) =>
    (fields: object, message?: string): void =>
      void lines.push({ level, message: message ?? '', bindings, fields: { ...fields } })
  return {
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
    child: (more) => pinoLike(lines, { ...bindings, ...more }),
  }
}

describe('failures are loud by default', () => {
  it('logs each failed attempt at debug, the last at error and the dead letter as a warning, each key once', async () => {
    const lines: Line[] = []
    const bus = createBus({
      service: 'shipping',
      transport: memoryTransport({ broker: new MemoryBroker() }),
      logger: pinoLike(lines),
    })
    bus.listen(
      'payment.captured',
      (_event, ctx) => {
        ctx.logger.info({ step: 'booking' }, 'calling the carrier')
        throw new Error('carrier down')
      },
      { name: 'create-shipment', retry: { maxAttempts: 2, backoff: fixed(5) } },
    )
    await bus.start()
    const event = await bus.publish('payment.captured', { orderId: 'o-1' })
    const deadline = Date.now() + 2000
    while (!lines.some((line) => line.level === 'warn') && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 2))
    await bus.close()

    const failures = lines.filter((line) => line.level !== 'info')
    expect(failures.map((line) => `${line.level}: ${line.message}`)).toEqual([
      'debug: handler failed; retrying after the delay',
      'error: handler failed its last attempt',
      'warn: event dead-lettered',
    ])
    expect(failures[0]!.fields).toMatchObject({ eventId: event.id, attempt: 1, delayMs: 5 })
    expect(failures[1]!.fields).toMatchObject({
      eventId: event.id,
      attempt: 2,
      reason: expect.stringMatching(/exhausted/),
    })
    expect(failures[2]!.fields).toMatchObject({ eventId: event.id, eventType: 'payment.captured' })
    for (const line of lines) {
      expect(line.bindings.group ?? line.fields.group).toBe('shipping-create-shipment')
      const repeated = Object.keys(line.fields).filter((key) => key in line.bindings)
      expect(repeated, `${line.message} repeats ${repeated.join(', ')}`).toEqual([])
    }
  })
})
