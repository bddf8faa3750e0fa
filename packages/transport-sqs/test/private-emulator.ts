import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

type App = { listen(options: { port: number; host: string }): Promise<string>; close(): Promise<void> }
type BuildApp = (options: { logger: boolean; host: string; stores: unknown }) => App

/**
 * A private fauxqs emulator that can be stopped and started again on the same port while keeping
 * its queues, topics and messages, as AWS's endpoint would come back after a network outage. The
 * shared emulator of the test run is never stopped.
 */
export class PrivateEmulator {
  private app: App | undefined

  private constructor(
    private readonly buildApp: BuildApp,
    private readonly stores: unknown,
    public port: number,
  ) {}

  static async start(): Promise<PrivateEmulator> {
    // The stores are not exported by fauxqs; startFauxqs() builds its own and cannot be restarted.
    const distribution = fauxqsDistribution()
    const load = (path: string) => import(pathToFileURL(join(distribution, path)).href)
    const [{ buildApp }, { SqsStore }, { SnsStore }, { S3Store }] = await Promise.all([
      load('app.js'),
      load('sqs/sqsStore.js'),
      load('sns/snsStore.js'),
      load('s3/s3Store.js'),
    ])
    const emulator = new PrivateEmulator(
      buildApp,
      { sqsStore: new SqsStore(), snsStore: new SnsStore(), s3Store: new S3Store() },
      0,
    )
    await emulator.resume()
    return emulator
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`
  }

  /** Stops answering: connections are refused until resume(). */
  async stop(): Promise<void> {
    const app = this.app
    this.app = undefined
    await app?.close()
  }

  async resume(): Promise<void> {
    if (this.app) return
    const app = this.buildApp({ logger: false, host: '127.0.0.1', stores: this.stores })
    const address = await app.listen({ port: this.port, host: '127.0.0.1' })
    this.port = Number(new URL(address).port)
    this.app = app
  }
}

function fauxqsDistribution(): string {
  const folders = createRequire(import.meta.url).resolve.paths('fauxqs') ?? []
  const found = folders.map((folder) => join(folder, 'fauxqs', 'dist')).find((dist) => existsSync(dist))
  if (!found) throw new Error(`fauxqs is not installed (looked in ${folders.join(', ')})`)
  return found
}
