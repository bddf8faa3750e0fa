import { waitUntil } from '@tidings/testkit'
import { describe, expect, it } from 'vitest'
import { message, record, subscribeOptions, useNatsTestNamespace } from './support.js'

describe('nats attempts and redeliveries', () => {
  const nats = useNatsTestNamespace()

  it('counts a message the server redelivers after ackTimeoutMs as the next attempt, so core can stop a crash loop', async () => {
    const transport = await nats.open()
    // Never settled and never renewed: to the server, the process died each time (each unsettled
    // delivery keeps its credit, so concurrency 4 leaves room for the redeliveries).
    const { log } = await record(
      transport,
      subscribeOptions('ledger-post', ['payment.captured'], { ackTimeoutMs: 150, concurrency: 4 }),
      () => new Promise(() => {}),
    )
    await transport.publish(message('payment.captured'))
    await waitUntil(() => log.length >= 3, { timeoutMs: 5000, what: 'three deliveries' })
    expect(log.slice(0, 3).map((r) => [r.delivery.attempt, r.delivery.redelivered])).toEqual([
      [1, false],
      [2, true],
      [3, true],
    ])
  })

  it('carries attempt and history on a retry copy, and counts crashes of the copy on top', async () => {
    const transport = await nats.open()
    let first = true
    const { log } = await record(
      transport,
      subscribeOptions('ledger-post', ['payment.captured'], { ackTimeoutMs: 200, concurrency: 1 }),
      async (delivery) => {
        if (delivery.attempt === 1) {
          await delivery.retry({
            delayMs: 50,
            attempt: 2,
            history: [
              { attempt: 1, at: new Date().toISOString(), error: { name: 'Error', message: 'café down' } },
            ],
          })
        } else if (first) {
          first = false // the copy "crashes": left unsettled, redelivered after ackTimeoutMs
        } else {
          await delivery.ack()
        }
      },
    )
    await transport.publish(message('payment.captured'))
    await waitUntil(() => log.length >= 3, {
      timeoutMs: 5000,
      what: 'the original, the copy and its redelivery',
    })
    const [original, copy, crashed] = log
    expect([original!.delivery.attempt, copy!.delivery.attempt, crashed!.delivery.attempt]).toEqual([1, 2, 3])
    expect(copy!.delivery.history[0]!.error.message).toBe('café down')
    expect(copy!.delivery.redelivered).toBe(false)
    expect(crashed!.delivery.redelivered).toBe(true)
    expect(copy!.at - original!.at).toBeGreaterThanOrEqual(45)
  })
})
