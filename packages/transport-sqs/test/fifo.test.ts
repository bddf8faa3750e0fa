import { createBus, RetryLater, silentLogger } from '@tidings/core'
import { waitUntil } from '@tidings/testkit'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { messageGroupId } from '../src/message-fields.js'
import { deleteNamespace, makeTransport, randomNamespace } from './support.js'

describe('SQS FIFO mode (fifo: true)', () => {
  let namespace = ''
  const closing: { close(): Promise<void> }[] = []
  beforeEach(() => {
    namespace = randomNamespace()
  })
  afterEach(async () => {
    await Promise.allSettled(closing.splice(0).map((bus) => bus.close()))
    await deleteNamespace(namespace)
  })
  const bus = () => {
    const made = createBus({
      service: 'ledger',
      transport: makeTransport(namespace, { fifo: true }),
      logger: silentLogger,
    })
    closing.push(made)
    return made
  }

  it("keeps a key's order through a retry, while other keys go on", async () => {
    const handled: string[] = []
    const consumer = bus()
    let failedOnce = false
    consumer.listen(
      'entry.posted',
      (event) => {
        const { label } = event.data as { label: string }
        if (label === 'a1' && !failedOnce) {
          failedOnce = true
          throw new RetryLater(1000, 'ledger locked')
        }
        handled.push(label)
      },
      { name: 'books', concurrency: 4 },
    )
    await consumer.start()
    for (const label of ['a1', 'a2', 'a3']) await consumer.publish('entry.posted', { label }, { key: 'a' })
    await consumer.publish('entry.posted', { label: 'b1' }, { key: 'b' })
    await waitUntil(() => handled.length === 4, { timeoutMs: 10_000, what: 'four entries handled' })
    // b1 did not wait for a's retry; a2 and a3 did (standard queues would hand them over at once).
    expect(handled.indexOf('b1')).toBeLessThan(handled.indexOf('a1'))
    expect(handled.filter((label) => label.startsWith('a'))).toEqual(['a1', 'a2', 'a3'])
  })

  it('delivers a second publish of the same event id within five minutes once (SNS FIFO deduplication)', async () => {
    const handled: string[] = []
    const consumer = bus()
    consumer.listen('entry.posted', (event) => void handled.push(event.id), { name: 'books' })
    await consumer.start()
    const id = '0190f3c4-aaaa-7000-8000-000000000001'
    await consumer.publish('entry.posted', { label: 'once' }, { id, key: 'c' })
    await consumer.publish('entry.posted', { label: 'once' }, { id, key: 'c' })
    await consumer.publish('entry.posted', { label: 'marker' }, { key: 'c' })
    await waitUntil(() => handled.length >= 2, { timeoutMs: 10_000, what: 'the event and the marker' })
    expect(handled.filter((each) => each === id)).toHaveLength(1)
  })

  it('turns a key SQS would refuse as a message group into a stable hash', () => {
    expect(messageGroupId('customer-42', 'id')).toBe('customer-42')
    expect(messageGroupId(undefined, 'event-id')).toBe('event-id')
    const spaced = messageGroupId('Zoë Müller', 'id')
    expect(spaced).toMatch(/^[0-9a-f]{64}$/)
    expect(messageGroupId('Zoë Müller', 'other')).toBe(spaced)
    expect(messageGroupId('x'.repeat(129), 'id')).toMatch(/^[0-9a-f]{64}$/)
  })
})
