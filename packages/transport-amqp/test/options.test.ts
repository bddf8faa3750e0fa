import { inspect } from 'node:util'
import { ConfigError, createBus, silentLogger } from '@tidings/core'
import { redactUrl } from '@tidings/core/transport'
import { afterEach, describe, expect, it } from 'vitest'
import {
  AmqpConnectionError,
  type AmqpTransport,
  amqpTransport,
  createTransportFromUrl,
} from '../src/index.js'
import { optionsFromUrl } from '../src/url.js'
import { AMQP_URL, deleteResources, randomNamespace, testContext } from './helpers.js'

describe('amqp transport: options and URLs', () => {
  it('maps URL query parameters to options and leaves amqplib ones alone', () => {
    expect(
      optionsFromUrl(
        'amqps://u:p@mq.example.com:5671/prod?namespace=shop&queueType=quorum&prefetch=50&publishTimeoutMs=3000&frameMax=131072&heartbeat=5&reconnectMaxDelayMs=2000',
      ),
    ).toEqual({
      url: 'amqps://u:p@mq.example.com:5671/prod?namespace=shop&queueType=quorum&prefetch=50&publishTimeoutMs=3000&frameMax=131072&heartbeat=5&reconnectMaxDelayMs=2000',
      namespace: 'shop',
      queueType: 'quorum',
      prefetch: 50,
      publishTimeoutMs: 3000,
      heartbeatSeconds: 5,
      reconnect: { maxDelayMs: 2000 },
    })
    const transport = createTransportFromUrl(
      'amqp://localhost?namespace=shop&queueType=quorum',
    ) as AmqpTransport
    expect(transport.name).toBe('amqp')
    expect(transport.options).toMatchObject({
      namespace: 'shop',
      queueType: 'quorum',
      publishTimeoutMs: 10_000,
    })
    expect(transport.maxMessageBytes).toBe(16 * 1024 * 1024)
  })

  it('refuses bad options with a ConfigError that says what to fix and never shows the password', () => {
    const secret = 'amqp://admin:s3cr3t-pw@localhost'
    const attempts: [() => unknown, RegExp][] = [
      [() => createTransportFromUrl(`${secret}?queueType=lazy`), /"classic" or "quorum"/],
      [() => createTransportFromUrl(`${secret}?nameSpace=x`), /unknown query parameter "nameSpace"/],
      [() => createTransportFromUrl(`${secret}?prefetch=ten`), /prefetch must be a whole number/],
      [() => createTransportFromUrl(`${secret}?prefetch=0`), /prefetch must be an integer from 1/],
      [() => createTransportFromUrl(`${secret}?namespace=Bad.Name`), /namespace "Bad.Name" is not valid/],
      [() => amqpTransport({ url: 'http://localhost' }), /"amqp:\/\/" or "amqps:\/\/" URL/],
      [() => amqpTransport({ url: secret, publishTimeoutMs: -1 }), /publishTimeoutMs must be an integer/],
      [
        () => amqpTransport({ url: secret, reconnect: { initialDelayMs: 500, maxDelayMs: 100 } }),
        /maxDelayMs/,
      ],
    ]
    for (const [attempt, message] of attempts) {
      let thrown: unknown
      try {
        attempt()
      } catch (error) {
        thrown = error
      }
      expect(thrown).toBeInstanceOf(ConfigError)
      expect((thrown as Error).message).toMatch(message)
      expect((thrown as Error).message).not.toContain('s3cr3t')
    }
    expect(redactUrl(secret)).toBe('amqp://***@localhost')
  })

  it('connect() fails after connectTimeoutMs with an error naming the host but not the password', async () => {
    const transport = amqpTransport({ url: 'amqp://admin:s3cr3t-pw@127.0.0.1:1', connectTimeoutMs: 300 })
    const started = Date.now()
    const failure = transport.connect(testContext())
    await expect(failure).rejects.toBeInstanceOf(AmqpConnectionError)
    await expect(failure).rejects.toThrow(/127\.0\.0\.1:1/)
    await expect(failure).rejects.not.toThrow(/s3cr3t/)
    expect(Date.now() - started).toBeLessThan(3_000)
    await transport.close()
  })

  it('refuses a wrong password at once, saying to check the credentials', async () => {
    const url = new URL(AMQP_URL)
    url.password = 'definitely-wrong'
    const transport = amqpTransport({ url: url.toString(), connectTimeoutMs: 5_000 })
    const started = Date.now()
    const failure = transport.connect(testContext())
    await expect(failure).rejects.toThrow(/refused the login .*check the user name and password/)
    await expect(failure).rejects.not.toThrow(/definitely-wrong/)
    expect(Date.now() - started).toBeLessThan(2_000)
  })

  it('refuses a virtual host that does not exist at once, saying how to create it, not to check host and port', async () => {
    const url = new URL(AMQP_URL)
    url.pathname = '/no-such-vhost'
    const transport = amqpTransport({ url: url.toString(), connectTimeoutMs: 10_000 })
    const started = Date.now()
    const failure = transport.connect(testContext())
    await expect(failure).rejects.toBeInstanceOf(AmqpConnectionError)
    await expect(failure).rejects.toThrow(
      /refused to open the virtual host "no-such-vhost".*rabbitmqctl add_vhost no-such-vhost/,
    )
    await expect(failure).rejects.not.toThrow(/host and port/)
    expect(Date.now() - started).toBeLessThan(3_000)
  })

  it('keeps trying a broker that does not answer for the whole of connectTimeoutMs', async () => {
    const transport = amqpTransport({ url: 'amqp://127.0.0.1:1', connectTimeoutMs: 1_500 })
    const started = Date.now()
    await expect(transport.connect(testContext())).rejects.toThrow(/within connectTimeoutMs=1500/)
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_400)
    await transport.close()
  })

  describe('through createBus({ url })', () => {
    let namespace = ''
    afterEach(async () => {
      await deleteResources(
        [`${namespace}.svc-url`, `${namespace}.svc-url.dlq`],
        [`${namespace}.events`, `${namespace}.retry`, `${namespace}.dlx`],
      )
    })

    it('core loads this package for amqp:// URLs and the bus works end to end', async () => {
      namespace = randomNamespace()
      const url = new URL(AMQP_URL)
      url.searchParams.set('namespace', namespace)
      const bus = createBus({ service: 'svc', url: url.toString(), logger: silentLogger })
      const seen: string[] = []
      bus.listen('order.*', (received) => void seen.push(received.id), { name: 'url' })
      await bus.start()
      const sent = await bus.publish('order.placed', { orderId: 'o-1' })
      await expect.poll(() => seen).toEqual([sent.id])
      await bus.close()
    })
  })
})

describe('transport-amqp inspected', () => {
  it('never shows the password in util.inspect or JSON', () => {
    const transport = amqpTransport({ url: 'amqp://shop:pa55word@127.0.0.1:5672/prod' })
    for (const text of [inspect(transport, { depth: 20, showHidden: true }), JSON.stringify(transport)]) {
      expect(text).not.toContain('pa55word')
    }
    expect(inspect(transport)).toContain('***@127.0.0.1')
  })
})
