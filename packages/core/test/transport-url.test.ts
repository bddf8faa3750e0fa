import {
  ConfigError,
  configuredTransportUrl,
  createBus,
  memoryTransport,
  parseTransportUrl,
  redactUrl,
  TRANSPORT_SCHEMES,
} from '@tidings/core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { isUnsetUrl, transportFromUrl } from '../src/transport/resolve-url.js'

/** Runs fn and returns the ConfigError it throws (failing if it throws anything else or nothing). */
function configError(fn: () => unknown): ConfigError {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError)
    return error as ConfigError
  }
  throw new Error('expected a ConfigError, nothing was thrown')
}

describe('TIDINGS_URL set but empty', () => {
  let saved: string | undefined
  beforeEach(() => {
    saved = process.env.TIDINGS_URL
  })
  afterEach(() => {
    if (saved === undefined) delete process.env.TIDINGS_URL
    else process.env.TIDINGS_URL = saved
  })

  it('counts an empty or blank value as unset', () => {
    for (const value of [undefined, null, '', ' ', '\t\n']) expect(isUnsetUrl(value)).toBe(true)
    for (const value of ['memory://', 'x']) expect(isUnsetUrl(value)).toBe(false)
    expect(configuredTransportUrl('', { TIDINGS_URL: '' })).toBeUndefined()
    expect(configuredTransportUrl(undefined, { TIDINGS_URL: '  ' })).toBeUndefined()
    expect(configuredTransportUrl('', { TIDINGS_URL: 'redis://h:6379' })).toBe('redis://h:6379')
    expect(configuredTransportUrl('memory://a', { TIDINGS_URL: 'redis://h:6379' })).toBe('memory://a')
    process.env.TIDINGS_URL = 'memory://from-env'
    expect(configuredTransportUrl()).toBe('memory://from-env')
  })

  it('createBus with TIDINGS_URL= asks for a transport, as when it is unset', () => {
    process.env.TIDINGS_URL = ''
    const error = configError(() => createBus({ service: 'shop' }))
    expect(error.message).toMatch(/^No transport: .*TIDINGS_URL/)
    expect(configError(() => createBus({ service: 'shop', url: '' })).message).toMatch(/^No transport/)
  })

  it("url: '' falls back to TIDINGS_URL, and is no conflict with a transport", async () => {
    process.env.TIDINGS_URL = 'memory://empty-url-fallback'
    const bus = createBus({ service: 'shop', url: '' })
    const received: unknown[] = []
    bus.listen('order.placed', (event) => void received.push(event.data), { name: 'audit' })
    await bus.start()
    await bus.publish('order.placed', { n: 1 })
    await expect.poll(() => received).toEqual([{ n: 1 }])
    await bus.close()

    const withTransport = createBus({ service: 'shop', url: '', transport: memoryTransport() })
    await withTransport.close()
    expect(() => createBus({ service: 'shop', url: 'memory://', transport: memoryTransport() })).toThrow(
      /not both/,
    )
  })
})

describe('a transport URL that does not parse', () => {
  const schemes = 'memory://, amqp://, amqps://, redis://, rediss://, nats://, sqs://'

  it('lists every scheme that works', () => {
    expect(TRANSPORT_SCHEMES.join(', ')).toBe(schemes)
  })

  it.each([
    ['not a url'],
    ['://nothing'],
    ['redis://user:s3cr3t@[::1'],
    ['amqp://guest:s3cr3t@host:99999'],
    ['localhost'],
  ])('%s gets a ConfigError with the redacted value and the schemes, never a TypeError', (url) => {
    const error = configError(() => parseTransportUrl(url))
    expect(error.message).toContain('is not a valid URL')
    expect(error.message).toContain(schemes)
    expect(error.message).toContain(`"${redactUrl(url)}"`)
    expect(error.message).not.toContain('s3cr3t')
    expect(configError(() => createBus({ service: 'shop', url })).message).toBe(error.message)
  })

  it('an unknown scheme names it and the schemes that work', () => {
    const error = configError(() => parseTransportUrl('ftp://user:s3cr3t@host/x?token=t0k3n'))
    expect(error.message).toBe(
      `The transport URL scheme "ftp:" is unknown (in "ftp://***@host/x"): use one of ${schemes}.`,
    )
  })

  it('suggests the scheme for host:port by the broker port', () => {
    expect(configError(() => parseTransportUrl('localhost:6379')).message).toContain(
      'did you mean redis://localhost:6379?',
    )
    expect(configError(() => parseTransportUrl('127.0.0.1:6379')).message).toContain(
      'did you mean redis://127.0.0.1:6379?',
    )
    expect(configError(() => parseTransportUrl('rabbit.internal:5672')).message).toContain(
      'did you mean amqp://rabbit.internal:5672?',
    )
    const withPassword = configError(() => parseTransportUrl('user:s3cr3t@localhost:6379')).message
    expect(withPassword).toContain('did you mean redis://***@localhost:6379?')
    expect(withPassword).not.toContain('s3cr3t')
    expect(configError(() => parseTransportUrl('localhost:1234')).message).toContain(
      'it needs a scheme in front, such as redis://localhost:1234 or amqp://localhost:1234',
    )
  })

  it('a URL without // after the scheme asks for it instead of blaming what follows', () => {
    expect(configError(() => parseTransportUrl('redis:localhost')).message).toBe(
      'The transport URL "redis:localhost" has no host: write it with "//" after the scheme, as in redis://localhost.',
    )
    const secret = configError(() => parseTransportUrl('amqp:guest:s3cr3t@localhost')).message
    expect(secret).toContain('as in amqp://***@localhost')
    expect(secret).not.toContain('s3cr3t')
  })

  it('a value that is not a string says so', () => {
    expect(configError(() => parseTransportUrl(42)).message).toMatch(/must be a string .* got number/)
  })

  it('the URL loader gives the same ConfigError', async () => {
    await expect(transportFromUrl('localhost:6379')).rejects.toBeInstanceOf(ConfigError)
    await expect(transportFromUrl('')).rejects.toThrow(/^No transport/)
  })

  it('accepts every working form', () => {
    for (const url of [
      'memory://',
      'memory://shop',
      ' memory://padded ',
      'amqp://guest:guest@127.0.0.1:5672/%2f',
      'amqps://host',
      'redis://127.0.0.1:6379/0?namespace=x',
      'rediss://host',
      'nats://host:4222',
      'sqs://eu-west-1?endpoint=http://localhost:4566',
    ]) {
      expect(() => parseTransportUrl(url)).not.toThrow()
    }
  })
})

describe('redactUrl', () => {
  it('masks credentials and drops the query, also in strings that are not URLs', () => {
    expect(redactUrl('amqp://user:secret@host:5672/vhost?token=t0k3n')).toBe('amqp://***@host:5672/vhost')
    expect(redactUrl('redis://user:secret@[::1')).toBe('redis://***@[::1')
    expect(redactUrl('redis:user:secret@host')).toBe('redis:***@host')
    expect(redactUrl('host:6379?password=secret')).toBe('host:6379')
    expect(redactUrl('not a url')).toBe('not a url')
  })
})
