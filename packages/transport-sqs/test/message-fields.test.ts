import type { Message } from '@aws-sdk/client-sqs'
import { describe, expect, it } from 'vitest'
import { receivedAttempt } from '../src/message-fields.js'

/** A message as ReceiveMessage returns it, with the attributes Tidings reads. */
function received(options: { attempt?: number; receives: number; sentAt?: number; dueAt?: number }): Message {
  const attributes: NonNullable<Message['MessageAttributes']> = {}
  if (options.attempt !== undefined)
    attributes['tidings-attempt'] = { DataType: 'Number', StringValue: String(options.attempt) }
  if (options.dueAt !== undefined)
    attributes['tidings-due-at'] = { DataType: 'Number', StringValue: String(options.dueAt) }
  return {
    Body: '{}',
    MessageAttributes: attributes,
    Attributes: {
      ApproximateReceiveCount: String(options.receives),
      SentTimestamp: String(options.sentAt ?? 0),
    },
  }
}

const MINUTE = 60_000

describe('the attempt of a received SQS message', () => {
  it('is 1 for a first delivery, and one more for each receive after a crash or an expired lease', () => {
    expect(receivedAttempt(received({ receives: 1 }))).toEqual({ attempt: 1, redelivered: false })
    expect(receivedAttempt(received({ receives: 3 }))).toEqual({ attempt: 3, redelivered: true })
  })

  it("is the retry copy's own attempt, plus its redeliveries", () => {
    expect(receivedAttempt(received({ attempt: 4, receives: 1 }))).toEqual({ attempt: 4, redelivered: false })
    expect(receivedAttempt(received({ attempt: 4, receives: 2 }))).toEqual({ attempt: 5, redelivered: true })
  })

  it('does not count the receive that only hid a copy delayed beyond 15 minutes until it was due', () => {
    const sentAt = 1_000_000_000
    const dueAt = sentAt + 90 * MINUTE // received at +15 min, hidden for 75 more
    expect(receivedAttempt(received({ attempt: 3, receives: 2, sentAt, dueAt }))).toEqual({
      attempt: 3,
      redelivered: false,
    })
    // A crash while handling it after it was due is a redelivery as usual.
    expect(receivedAttempt(received({ attempt: 3, receives: 3, sentAt, dueAt }))).toEqual({
      attempt: 4,
      redelivered: true,
    })
  })

  it('counts every receive of a copy due within a second of SQS’s own 15-minute delay (never hidden)', () => {
    const sentAt = 1_000_000_000
    const dueAt = sentAt + 15 * MINUTE + 500
    expect(receivedAttempt(received({ attempt: 2, receives: 2, sentAt, dueAt }))).toEqual({
      attempt: 3,
      redelivered: true,
    })
  })
})
