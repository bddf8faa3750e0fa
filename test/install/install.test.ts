import { execFile } from 'node:child_process'
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { BROKERS } from '../../scripts/require-broker.js'

/**
 * The packages as a user installs them (issue 14): the tarballs `npm pack` makes (globalSetup) are
 * installed into a scratch project under the OS temporary directory, outside this repository, as
 * `@tidings/core` plus one transport. The README's usage example is compiled there with tsc (strict,
 * module/moduleResolution nodenext, declarations checked) and run unchanged on memory:// and on the
 * transport's broker; plain JavaScript ESM and CommonJS `require()` (Node 20.19+) publish and receive
 * an event through the installed packages. A broken exports map, a file missing from a tarball or a
 * dependency that should have been declared fails here, not in a user's app.
 */

const run = promisify(execFile)
const ROOT = resolve(import.meta.dirname, '../..')
const FIXTURE = join(import.meta.dirname, 'fixture')
const packed = inject('packed')

/**
 * Each transport: its broker's URL, and what the child processes need beside it (SQS: credentials;
 * any will do for the emulator).
 */
const TRANSPORTS: readonly { name: string; url: string; env: Record<string, string> }[] = [
  {
    name: '@tidings/transport-redis-streams',
    url: `${BROKERS.redis.url}?namespace=tidingsinstall`,
    env: {},
  },
  {
    name: '@tidings/transport-amqp',
    url: `${BROKERS.rabbitmq.url}?namespace=tidingsinstall`,
    env: {},
  },
  {
    name: '@tidings/transport-nats',
    url: `${BROKERS.nats.url}?namespace=tidingsinstall`,
    env: {},
  },
  {
    // The fauxqs emulator this project's globalSetup started in-process.
    name: '@tidings/transport-sqs',
    url: `sqs://us-east-1?endpoint=${inject('sqsEndpoint')}&namespace=tidingsinstall`,
    env: { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' },
  },
]

function tarball(name: string): string {
  const found = packed.find((entry) => entry.name === name)
  if (found === undefined) throw new Error(`${name} was not packed`)
  return found.filename
}

async function version(name: string): Promise<string> {
  const manifest = JSON.parse(await readFile(join(ROOT, 'node_modules', name, 'package.json'), 'utf8'))
  return manifest.version as string
}

/** The first ```ts block under "## Usage" in the root README, exactly as a user copies it. */
async function readmeExample(): Promise<string> {
  const readme = await readFile(join(ROOT, 'README.md'), 'utf8')
  const usage = readme.slice(readme.indexOf('\n## Usage'))
  const match = /```ts\n([\s\S]*?)```/.exec(usage)
  if (match === null) throw new Error('README.md has no ```ts block under "## Usage"')
  return match[1]!
}

interface Output {
  readonly stdout: string
  readonly stderr: string
}

async function exec(
  command: string,
  args: readonly string[],
  cwd: string,
  env: Record<string, string> = {},
  timeout = 60_000,
): Promise<Output> {
  try {
    return await run(command, [...args], {
      cwd,
      env: { ...process.env, ...env },
      timeout,
      maxBuffer: 16 * 1024 * 1024,
    })
  } catch (error) {
    const { stdout = '', stderr = '' } = error as Partial<Output>
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${stdout}\n${stderr}`, { cause: error })
  }
}

/** The last line of stdout that is JSON. */
function lastJson(output: Output): Record<string, unknown> {
  const line = output.stdout
    .trim()
    .split('\n')
    .reverse()
    .find((text) => text.startsWith('{'))
  if (line === undefined) throw new Error(`no JSON line in:\n${output.stdout}\n${output.stderr}`)
  return JSON.parse(line)
}

describe('the tarballs', () => {
  it.each(packed.map((entry) => [entry.name, entry] as const))(
    '%s ships what its manifest names',
    async (name, entry) => {
      const files = new Map(entry.files.map((file) => [file.path, file.size]))
      const license = await readFile(join(ROOT, 'LICENSE'), 'utf8')
      expect(license).toContain('Copyright (c) 2026 the Tidings authors')
      expect(files.get('LICENSE')).toBe(Buffer.byteLength(license))
      expect(files.has('README.md')).toBe(true)
      const manifest = JSON.parse(
        await readFile(join(ROOT, 'packages', name.replace('@tidings/', ''), 'package.json'), 'utf8'),
      )
      // Every file the exports map, main and types point at is in the tarball.
      const targets = new Set<string>([manifest.main, manifest.types])
      const collect = (value: unknown): void => {
        if (typeof value === 'string') targets.add(value)
        else if (value !== null && typeof value === 'object') Object.values(value).forEach(collect)
      }
      collect(manifest.exports)
      for (const target of targets) expect(files.has(target.replace(/^\.\//, '')), target).toBe(true)
      expect([...files.keys()].filter((path) => /(^|\/)test\/|\.tsbuildinfo$|\.test\./.test(path))).toEqual(
        [],
      )
      // What a registry page shows.
      expect(manifest.license).toBe('MIT')
      expect(manifest.repository).toMatchObject({ type: 'git', directory: `packages/${name.slice(9)}` })
      expect(typeof manifest.homepage).toBe('string')
      expect(typeof manifest.bugs?.url).toBe('string')
      expect(manifest.keywords?.length).toBeGreaterThan(2)
      if (name !== '@tidings/core') {
        // One core per app: a peer, never a dependency of its own.
        expect(manifest.dependencies?.['@tidings/core']).toBeUndefined()
        expect(manifest.peerDependencies?.['@tidings/core']).toMatch(/^\^?0\.1\.\d+$/)
      }
    },
  )
})

describe.each(TRANSPORTS)('a scratch project with @tidings/core and $name', (transport) => {
  let project: string

  beforeAll(async () => {
    project = await mkdtemp(join(tmpdir(), 'tidings-install-'))
    expect(project.startsWith(ROOT)).toBe(false)
    const [typescript, nodeTypes] = await Promise.all([version('typescript'), version('@types/node')])
    await writeFile(
      join(project, 'package.json'),
      `${JSON.stringify(
        {
          name: 'tidings-install-check',
          private: true,
          type: 'module',
          dependencies: {
            '@tidings/core': `file:${tarball('@tidings/core')}`,
            [transport.name]: `file:${tarball(transport.name)}`,
          },
          devDependencies: { typescript, '@types/node': nodeTypes },
        },
        null,
        2,
      )}\n`,
    )
    await writeFile(
      join(project, 'tsconfig.json'),
      `${JSON.stringify(
        {
          compilerOptions: {
            target: 'ES2022',
            lib: ['ES2023'],
            module: 'nodenext',
            moduleResolution: 'nodenext',
            strict: true,
            noUncheckedIndexedAccess: true,
            skipLibCheck: false,
            types: ['node'],
            outDir: 'out',
            rootDir: 'src',
          },
          include: ['src'],
        },
        null,
        2,
      )}\n`,
    )
    await mkdir(join(project, 'src'))
    const prelude = await readFile(join(FIXTURE, 'readme-prelude.ts'), 'utf8')
    const example = await readmeExample()
    const epilogue = 'console.log(JSON.stringify({ readme: "done" }))\n'
    await writeFile(join(project, 'src/readme.ts'), `${prelude}\n${example}\n${epilogue}`)
    await copyFile(join(FIXTURE, 'consumer.cts'), join(project, 'src/consumer.cts'))
    await copyFile(join(FIXTURE, 'roundtrip.mjs'), join(project, 'roundtrip.mjs'))
    await copyFile(join(FIXTURE, 'roundtrip.cjs'), join(project, 'roundtrip.cjs'))
    // Dependencies come from npm's cache when it has them (CI's `npm install` filled it).
    await exec(
      'npm',
      ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'],
      project,
      {},
      180_000,
    )
  }, 240_000)

  afterAll(async () => {
    if (project !== undefined) await rm(project, { recursive: true, force: true })
  })

  it('resolves one @tidings/core and every peer (npm ls)', async () => {
    const { stdout } = await exec('npm', ['ls', '--all', '--json'], project)
    const tree = JSON.parse(stdout)
    expect(Object.keys(tree.dependencies)).toEqual(expect.arrayContaining(['@tidings/core', transport.name]))
    expect(tree.dependencies[transport.name].dependencies?.['@tidings/core']).toMatchObject({
      version: '0.1.0',
    })
  })

  it('compiles the README example and a CommonJS module with tsc (strict, nodenext, declarations checked)', async () => {
    await exec(process.execPath, ['node_modules/typescript/bin/tsc', '-p', '.'], project)
  })

  it.each(['memory://readme', transport.url])('runs the README example unchanged on %s', async (url) => {
    const output = await exec(
      process.execPath,
      ['out/readme.js'],
      project,
      { ...transport.env, TIDINGS_URL: url },
      30_000,
    )
    expect(lastJson(output)).toEqual({ readme: 'done' })
  })

  it.each(['memory://esm', transport.url])(
    'plain JavaScript ESM publishes and receives on %s',
    async (url) => {
      const args = url.startsWith('memory:') ? ['roundtrip.mjs'] : ['roundtrip.mjs', transport.name]
      const output = await exec(
        process.execPath,
        args,
        project,
        { ...transport.env, TIDINGS_URL: url },
        30_000,
      )
      expect(lastJson(output)).toEqual({
        module: 'esm',
        data: { from: 'esm' },
        ...(url.startsWith('memory:') ? {} : { transportError: 'ConfigError' }),
      })
    },
  )

  it.each(['memory://cjs', transport.url])('CommonJS require() publishes and receives on %s', async (url) => {
    const args = url.startsWith('memory:') ? ['roundtrip.cjs'] : ['roundtrip.cjs', transport.name]
    const output = await exec(process.execPath, args, project, { ...transport.env, TIDINGS_URL: url }, 30_000)
    const result = lastJson(output)
    expect(result).toMatchObject({ module: 'cjs', data: { from: 'cjs' }, configError: true })
    if (!url.startsWith('memory:')) expect(result.transport).toContain('createTransportFromUrl')
    // Node 20.19+ loads ES modules with require() without a flag and without a warning.
    expect(output.stderr).not.toMatch(/ExperimentalWarning|ERR_REQUIRE_ESM/)
  })

  it('runs the compiled CommonJS TypeScript module', async () => {
    const output = await exec(process.execPath, ['out/consumer.cjs'], project)
    expect(output.stdout).toContain('{"module":"cts","data":{"from":"cts"}}')
    expect(lastJson(output)).toEqual({ configErrorIsClass: true })
  })

  it('never loads TypeScript sources, even under node --conditions=source', async () => {
    const output = await exec(process.execPath, ['--conditions=source', 'roundtrip.mjs'], project, {
      TIDINGS_URL: 'memory://conditions',
    })
    expect(lastJson(output)).toMatchObject({ module: 'esm', data: { from: 'esm' } })
  })
})

describe('the tidings command, installed from its tarball', () => {
  let project: string

  beforeAll(async () => {
    project = await mkdtemp(join(tmpdir(), 'tidings-cli-install-'))
    await writeFile(
      join(project, 'package.json'),
      `${JSON.stringify(
        {
          name: 'tidings-cli-install-check',
          private: true,
          dependencies: {
            '@tidings/cli': `file:${tarball('@tidings/cli')}`,
            '@tidings/core': `file:${tarball('@tidings/core')}`,
            '@tidings/transport-redis-streams': `file:${tarball('@tidings/transport-redis-streams')}`,
          },
        },
        null,
        2,
      )}\n`,
    )
    await exec(
      'npm',
      ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'],
      project,
      {},
      180_000,
    )
  }, 240_000)

  afterAll(async () => {
    if (project !== undefined) await rm(project, { recursive: true, force: true })
  })

  it('runs from node_modules/.bin: publish, groups and the demo on the installed transport', async () => {
    const bin = join(project, 'node_modules/.bin/tidings')
    const namespace = `tidingsinstallcli${Date.now().toString(36)}`
    const env = { TIDINGS_URL: `${BROKERS.redis.url}?namespace=${namespace}` }
    expect((await exec(bin, ['--version'], project)).stdout.trim()).toBe('0.1.0')
    const published = await exec(bin, ['publish', 'order.placed', '{"orderId":"o-1"}'], project, env)
    expect(published.stdout.trim()).toMatch(/^[0-9a-f-]{36}$/)
    expect((await exec(bin, ['groups', '--json'], project, env)).stdout).toBe('')
    const demo = await exec(bin, ['demo'], project)
    expect(demo.stdout).toContain('Shipped: o-1001')
    // A transport that is not installed: the CLI names the package to install.
    const missing = await exec(bin, ['groups', '--url', 'nats://127.0.0.1:4222'], project).catch(
      (error: Error) => ({ stdout: '', stderr: error.message }),
    )
    expect(missing.stderr).toContain('npm install @tidings/transport-nats')
  })
})
