import { inspect } from 'node:util'
import { ConfigError, ConnectionError, createBus, silentLogger } from '@tidings/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTransportFromUrl, natsTransport } from '../src/index.js'
import { transportOptionsFromUrl } from '../src/url.js'
import { PrivateNatsServer } from './private-server.js'
import { deleteNamespace, NATS_URL, randomNamespace } from './support.js'

describe('nats options and URLs', () => {
  it('reads Tidings options from the URL query and leaves the connection part to nats.js', () => {
    expect(
      transportOptionsFromUrl('nats://127.0.0.1:4222?namespace=shop&publishTimeoutMs=5000&replicas=3'),
    ).toEqual({
      url: 'nats://127.0.0.1:4222',
      namespace: 'shop',
      publishTimeoutMs: 5000,
      replicas: 3,
    })
    expect(transportOptionsFromUrl('nats://h:4222?tls=true').url).toBe('nats://h:4222?tls=true')
  })

  it('refuses a bad URL with ConfigError saying what to write, without the password', () => {
    const bad = [
      ['nats://u:s3cret@h:4222?namespce=x', /unknown query parameter "namespce".*namespace/],
      ['nats://u:s3cret@h:4222?replicas=9', /replicas must be a whole number from 1 to 5/],
      ['nats://u:s3cret@h:4222/db', /has a path/],
      ['nats://u:s3cret@h:4222?namespace=a.b', /namespace must be letters/],
      ['redis://u:s3cret@h:6379', /must start with nats:\/\//],
    ] as const
    for (const [url, message] of bad) {
      let error: unknown
      try {
        transportOptionsFromUrl(url)
      } catch (caught) {
        error = caught
      }
      expect(error, url).toBeInstanceOf(ConfigError)
      expect((error as Error).message).toMatch(message)
      expect((error as Error).message).not.toContain('s3cret')
    }
  })

  it('refuses bad options at construction with ConfigError naming the option', () => {
    expect(() => natsTransport({} as never)).toThrow(/needs a server/)
    expect(() => natsTransport({ url: NATS_URL, pullExpiresMs: 10 })).toThrow(/pullExpiresMs.*1000/)
    expect(() => natsTransport({ url: NATS_URL, namespace: 'has space' })).toThrow(ConfigError)
    expect(() => natsTransport({ url: NATS_URL, servers: 'x:1' })).toThrow(/either url or servers/)
  })

  it('createBus({ url: "nats://…" }) picks this transport', async () => {
    const namespace = randomNamespace()
    const bus = createBus({
      service: 'shop',
      logger: silentLogger,
      url: `${NATS_URL}?namespace=${namespace}`,
    })
    await bus.start()
    expect(bus.health().transport).toBe('nats')
    await bus.close()
    await deleteNamespace(namespace)
    expect(createTransportFromUrl(NATS_URL).name).toBe('nats')
  })

  it('fails connect() with ConnectionError after connectTimeoutMs when nothing listens, naming host and port', async () => {
    const transport = natsTransport({ url: 'nats://127.0.0.1:1', connectTimeoutMs: 300 })
    const started = Date.now()
    await expect(transport.connect({ logger: silentLogger, notify: () => {} })).rejects.toThrow(
      /Could not connect to NATS at 127.0.0.1:1 within 300 ms/,
    )
    expect(Date.now() - started).toBeLessThan(3000)
  })
})

describe('nats credentials', () => {
  let server: PrivateNatsServer
  beforeAll(async () => {
    server = await PrivateNatsServer.start(['--user', 'tidings', '--pass', 's3cret-pw'])
  })
  afterAll(() => server.dispose())

  it('connects with user and password from the URL', async () => {
    const transport = natsTransport({
      url: `nats://tidings:s3cret-pw@127.0.0.1:${server.port}`,
      namespace: 'creds',
    })
    await transport.connect({ logger: silentLogger, notify: () => {} })
    await transport.close()
  })

  it('fails at once with an authentication ConnectionError on a wrong password, and never shows it', async () => {
    const transport = natsTransport({
      url: `nats://tidings:wrong-pw@127.0.0.1:${server.port}`,
      namespace: 'creds',
      connectTimeoutMs: 20_000,
    })
    const started = Date.now()
    const error = await transport
      .connect({ logger: silentLogger, notify: () => {} })
      .catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(ConnectionError)
    expect((error as ConnectionError).authentication).toBe(true)
    expect((error as Error).message).toMatch(/refused the credentials/)
    expect((error as Error).message).not.toContain('wrong-pw')
    expect(Date.now() - started).toBeLessThan(5000) // not the 20 s connect timeout
  })

  it('keeps the password out of an inspected transport', () => {
    const transport = natsTransport({ url: `nats://tidings:s3cret-pw@127.0.0.1:${server.port}` })
    expect(inspect(transport, { depth: 10 })).not.toContain('s3cret-pw')
    expect(JSON.stringify(transport)).not.toContain('s3cret-pw')
  })
})
