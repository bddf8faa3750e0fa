import {
  ConfigError,
  createBus,
  MemoryBroker,
  memoryTransport,
  PayloadTooLargeError,
  silentLogger,
} from '@tidings/core'
import { describe, expect, it } from 'vitest'

const KiB = 1024

describe('one event size limit on every transport (maxEventBytes)', () => {
  it('refuses an event above 256 KiB by default, even where the broker would take it (memory takes 1 MiB)', async () => {
    const bus = createBus({
      service: 'shop',
      logger: silentLogger,
      transport: memoryTransport({ broker: new MemoryBroker() }),
    })
    expect(bus.maxEventBytes).toBe(256 * KiB)
    const tooLarge = bus.publish('report.created', { blob: 'x'.repeat(300 * KiB) })
    await expect(tooLarge).rejects.toBeInstanceOf(PayloadTooLargeError)
    await expect(tooLarge).rejects.toThrow(
      /over the bus's maxEventBytes of 262144 bytes.*raise createBus\(\{ maxEventBytes \}\)/,
    )
    await bus.publish('report.created', { blob: 'x'.repeat(200 * KiB) })
    await bus.close()
  })

  it('takes more when raised explicitly, up to the transport maximum', async () => {
    const bus = createBus({
      service: 'shop',
      logger: silentLogger,
      maxEventBytes: 900 * KiB,
      transport: memoryTransport({ broker: new MemoryBroker() }),
    })
    await bus.publish('report.created', { blob: 'x'.repeat(800 * KiB) })
    await bus.close()
  })

  it('is lowered to a transport that takes less, naming the transport in the error', async () => {
    const bus = createBus({
      service: 'shop',
      logger: silentLogger,
      transport: memoryTransport({ broker: new MemoryBroker(), maxMessageBytes: 64 * KiB }),
    })
    expect(bus.maxEventBytes).toBe(64 * KiB)
    await expect(bus.publish('report.created', { blob: 'x'.repeat(100 * KiB) })).rejects.toThrow(
      /over the memory transport's maximum of 65536 bytes/,
    )
    await bus.close()
  })

  it('refuses at createBus a maxEventBytes above what the transport takes, or one that is not a size', () => {
    const transport = memoryTransport({ broker: new MemoryBroker(), maxMessageBytes: 512 * KiB })
    expect(() => createBus({ service: 'shop', maxEventBytes: 1024 * KiB, transport })).toThrow(
      /maxEventBytes: 1048576 \}\) is above what the memory transport takes \(524288 bytes\)/,
    )
    expect(() => createBus({ service: 'shop', maxEventBytes: 10, transport })).toThrow(ConfigError)
    expect(() => createBus({ service: 'shop', maxEventBytes: '1mb' as never, transport })).toThrow(
      /whole number of bytes/,
    )
  })

  it('refuses at start a maxEventBytes above a transport configured by URL', async () => {
    const bus = createBus({
      service: 'shop',
      logger: silentLogger,
      maxEventBytes: 4096 * KiB,
      url: 'memory://max-event-bytes',
    })
    await expect(bus.start()).rejects.toThrow(/is above what the memory transport takes/)
    await bus.close()
  })
})
