import { type Event, NonRetryable } from '@tidings/core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { BROKERS, newNamespace } from './brokers.js'
import { startTidings, tidings } from './run-bin.js'

async function waitFor(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

const lines = (text: string) => text.split('\n').filter((line) => line.trim() !== '')

describe.each(BROKERS)('tidings on $name', (broker) => {
  let namespace = ''
  let env: NodeJS.ProcessEnv = {}
  beforeEach(() => {
    namespace = newNamespace()
    env = { TIDINGS_URL: broker.url(namespace), ...broker.env }
  })
  afterEach(async () => {
    await broker.cleanup(namespace)
  })

  it('tail prints what publish sends, as NDJSON with --json, and leaves no group behind', async () => {
    const tail = startTidings(['tail', 'order.*', '--json', '--limit', '2'], env)
    await waitFor(() => tail.output.stderr.includes('Tailing order.*'), 'tail to subscribe')
    const first = await tidings(
      ['publish', 'order.placed', '{"orderId":"o-1","amount":42}', '--key', 'o-1'],
      { env },
    )
    expect(first.code).toBe(0)
    const id = first.stdout.trim()
    expect(id).toMatch(/^[0-9a-f-]{36}$/)
    // From standard input, as in `echo '{…}' | tidings publish order.shipped`.
    const second = await tidings(['publish', 'order.shipped'], { env, input: '{"orderId":"o-1"}' })
    expect(second.code).toBe(0)
    await tidings(['publish', 'payment.captured', '{}'], { env }) // not a pattern tail listens to
    expect(await tail.exited).toBe(0)
    const events = lines(tail.output.stdout).map((line) => JSON.parse(line) as Event)
    expect(events.map((event) => [event.type, event.data])).toEqual([
      ['order.placed', { orderId: 'o-1', amount: 42 }],
      ['order.shipped', { orderId: 'o-1' }],
    ])
    expect(events[0]).toMatchObject({ id, key: 'o-1', source: '/tidings-cli' })
    const groups = await tidings(['groups', '--json'], { env })
    expect(groups.stdout).not.toContain('tail-')
  })

  it('lists, shows, replays and purges the dead letters a listener left', async () => {
    const service = broker.bus(namespace, 'billing')
    service.listen(
      'invoice.*',
      (event) => {
        throw new NonRetryable(new Error(`no customer for ${(event.data as { invoice: string }).invoice}`))
      },
      { name: 'send' },
    )
    await service.start()
    const sent = [
      await service.publish('invoice.created', { invoice: 'i-1' }),
      await service.publish('invoice.created', { invoice: 'i-2' }),
    ]
    const queue = service.deadLetters('billing-send')
    for (let tries = 0; (await queue.count()) < 2 && tries < 500; tries += 1) {
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    await service.close()

    const listed = await tidings(['dlq', 'ls', 'billing-send', '--json'], { env })
    expect(listed.code).toBe(0)
    const letters = lines(listed.stdout).map((line) => JSON.parse(line))
    expect(letters.map((letter) => letter.id)).toEqual(sent.map((event) => event.id))
    expect(letters[0]).toMatchObject({
      group: 'billing-send',
      attempts: 1,
      event: { data: { invoice: 'i-1' } },
    })

    const table = await tidings(['dlq', 'ls', 'billing-send'], { env })
    expect(table.stdout).toContain(sent[0]!.id)
    expect(table.stdout).toContain('no customer for i-1')

    const shown = await tidings(['dlq', 'show', 'billing-send', sent[1]!.id], { env })
    expect(shown.code).toBe(0)
    expect(shown.stdout).toContain('"invoice": "i-2"')
    expect(shown.stdout).toMatch(
      /1\. \S+ {2}NonRetryable: no customer for i-2|1\. \S+ {2}Error: no customer for i-2/,
    )

    const missing = await tidings(['dlq', 'show', 'billing-send', 'no-such-id'], { env })
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain('has no dead letter with id no-such-id')

    const replayed = await tidings(['dlq', 'replay', 'billing-send', sent[0]!.id], { env })
    expect(replayed.stdout.trim()).toBe('Replayed 1 dead letter to group billing-send.')

    const refused = await tidings(['dlq', 'purge', 'billing-send'], { env })
    expect(refused.code).toBe(2)
    expect(refused.stderr).toContain('pass --yes')

    const purged = await tidings(['dlq', 'purge', 'billing-send', '--yes', '--json'], { env })
    expect(JSON.parse(purged.stdout)).toEqual({ group: 'billing-send', purged: 1 })
    expect(lines((await tidings(['dlq', 'ls', 'billing-send', '--json'], { env })).stdout)).toEqual([])
  })

  it('groups shows the backlog of a group whose processes are all stopped', async () => {
    const service = broker.bus(namespace, 'warehouse')
    service.listen('stock.*', () => {}, { name: 'count' })
    await service.start()
    await service.close()
    const published = await tidings(['publish', 'stock.moved', '{"sku":"a"}', '--count', '3'], { env })
    expect(published.stdout).toMatch(/^published 3 "stock.moved" events in \d+ ms/)

    let group: Record<string, unknown> | undefined
    for (let tries = 0; group?.pending !== 3 && tries < 50; tries += 1) {
      const result = await tidings(['groups', '--json'], { env })
      group = lines(result.stdout)
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .find((each) => each.group === 'warehouse-count')
    }
    expect(group).toMatchObject({ group: 'warehouse-count', pending: 3, deadLetters: 0 })
    const table = await tidings(['groups'], { env })
    expect(table.stdout).toMatch(/warehouse-count\s*│\s*3\s*│/)
  })
})

describe('tidings as a command line', () => {
  it('answers --help with an example for every command, and --version', async () => {
    const help = await tidings(['--help'])
    expect(help.code).toBe(0)
    for (const command of ['tail', 'publish', 'dlq', 'groups', 'bench', 'demo']) {
      expect(help.stdout).toContain(command)
      const own = await tidings([command, '--help'])
      expect(own.code).toBe(0)
      expect(own.stdout).toMatch(/Examples?:\n {2}\$ /)
    }
    expect((await tidings(['--version'])).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/)
  })

  it('exits 2 with usage for an unknown command, an unknown option or a bad argument', async () => {
    for (const args of [['frobnicate'], ['groups', '--frob'], ['tail', '--limit', 'many'], ['publish']]) {
      const result = await tidings(args, { env: { TIDINGS_URL: 'memory://' } })
      expect(result.code, args.join(' ')).toBe(2)
      expect(result.stderr, args.join(' ')).toMatch(/error|--help/)
    }
    const badJson = await tidings(['publish', 'a.b', '{oops'], { env: { TIDINGS_URL: 'memory://' } })
    expect(badJson.code).toBe(2)
    expect(badJson.stderr).toContain('the payload argument is not JSON')
    const noBroker = await tidings(['groups'])
    expect(noBroker.code).toBe(2)
    expect(noBroker.stderr).toContain('set TIDINGS_URL')
  })

  it('names a broker that is down in one line, without its password or a stack, and exits 1', async () => {
    const started = Date.now()
    const result = await tidings([
      'groups',
      '--url',
      'redis://admin:s3cr3t@127.0.0.1:1?publishTimeoutMs=1500',
    ])
    expect(result.code).toBe(1)
    expect(Date.now() - started).toBeLessThan(10_000)
    expect(lines(result.stderr)).toHaveLength(1)
    expect(result.stderr).toContain('Cannot reach redis://***@127.0.0.1:1')
    expect(result.stderr + result.stdout).not.toContain('s3cr3t')
    expect(result.stderr).not.toMatch(/\n\s+at /)

    const debug = await tidings([
      'groups',
      '--debug',
      '--url',
      'redis://admin:s3cr3t@127.0.0.1:1?publishTimeoutMs=500',
    ])
    expect(debug.stderr).toMatch(/\n\s+at /) // the stack, on request
    expect(debug.stderr).not.toContain('s3cr3t')
  })

  it('runs the shop demo in memory', async () => {
    const result = await tidings(['demo'])
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('Tidings shop demo on memory://')
    expect(result.stdout).toContain('Shipped: o-1001')
  })

  it('benchmarks the configured broker and prints a table, or JSON', async () => {
    const result = await tidings(['bench', '--events', '300', '--json'], {
      env: { TIDINGS_URL: 'memory://' },
    })
    expect(result.code).toBe(0)
    const measured = JSON.parse(result.stdout)
    expect(measured).toMatchObject({ events: 300, inFlight: 100, transport: 'memory://' })
    expect(measured.publishPerSecond).toBeGreaterThan(0)
    const table = await tidings(['bench', '--events', '200'], { env: { TIDINGS_URL: 'memory://' } })
    expect(table.stdout).toContain('latency p99')
  })
})
