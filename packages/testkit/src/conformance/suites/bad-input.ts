import {
  ConfigError,
  createBus,
  DuplicateListenerError,
  PayloadTooLargeError,
  PublishError,
  SerializationError,
} from '@tidings/core'
import { describe, expect, it } from 'vitest'
import { sleep } from '../../wait.js'
import type { ConformanceHarness, Received } from '../harness.js'

/** G2 (duplicate names), G13: bad input is refused at the call with a typed error, and nothing is sent. */
export function badInputSuite(h: ConformanceHarness): void {
  describe('bad input (G2, G13)', () => {
    it('throws ConfigError for bad event names, patterns and options, saying what to fix', async () => {
      const bus = h.bus()
      await expect(bus.publish('Order Placed', {})).rejects.toThrow(ConfigError)
      await expect(bus.publish('order..placed', {})).rejects.toThrow(/dot-separated words/)
      await expect(bus.publish('order.placed', {}, { headers: { 'Bad-Name': 'x' } })).rejects.toThrow(
        ConfigError,
      )
      await expect(bus.publish('order.placed', {}, { key: 42 as unknown as string })).rejects.toThrow(/key/)
      expect(() => bus.listen('order.**', async () => {}, { name: 'x' })).toThrow(/"\*" \(one word\)/)
      expect(() => bus.listen('order.placed', async () => {}, { name: 'Bad Name' })).toThrow(ConfigError)
      expect(() => bus.listen('order.placed', async () => {}, { name: 'ok', concurrency: 0 })).toThrow(
        /concurrency/,
      )
      expect(() =>
        bus.listen('order.placed', async () => {}, { name: 'ok', retry: { maxAttempts: 0 } }),
      ).toThrow(/maxAttempts/)
      expect(() => bus.listen('order.placed', async () => {}, { name: 'ok', timeoutMs: -1 })).toThrow(
        /timeoutMs/,
      )
      expect(() => bus.listen('order.placed', async () => {}, { name: 'ok', typo: 1 } as never)).toThrow(
        /no option "typo"/,
      )
      expect(() =>
        createBus({ service: 'Shipping Service', transport: undefined, url: 'memory://' }),
      ).toThrow(ConfigError)
    })

    it('throws DuplicateListenerError for two listeners with one name in a service', () => {
      const bus = h.bus()
      bus.listen('order.placed', async () => {}, { name: 'same' })
      expect(() => bus.listen('order.shipped', async () => {}, { name: 'same' })).toThrow(
        DuplicateListenerError,
      )
    })

    it('rejects payloads that cannot be serialised or exceed the size limit, before anything is sent', async () => {
      const log: Received[] = []
      const bus = h.bus()
      bus.listen('#', h.recorder(log), { name: 'all' })
      await bus.start()
      const cyclic: Record<string, unknown> = {}
      cyclic.self = cyclic
      await expect(bus.publish('data.sent', { big: 10n })).rejects.toBeInstanceOf(SerializationError)
      await expect(bus.publish('data.sent', cyclic)).rejects.toBeInstanceOf(SerializationError)
      await expect(bus.publish('data.sent', (() => {}) as unknown)).rejects.toBeInstanceOf(PublishError)
      // The bus's one limit (maxEventBytes, 256 KiB unless raised), never above the transport's own.
      const limit = bus.maxEventBytes
      const tooLarge = bus.publish('data.sent', { blob: 'x'.repeat(limit) })
      await expect(tooLarge).rejects.toBeInstanceOf(PayloadTooLargeError)
      await expect(tooLarge).rejects.toThrow(String(limit))
      await bus.publish('data.sent', { blob: 'x'.repeat(limit - 1024) }) // just under: accepted
      await h.waitForCount(log, 1, 'deliveries')
      await sleep(100)
      expect(log.map((entry) => entry.event.type)).toEqual(['data.sent'])
    })
  })
}
