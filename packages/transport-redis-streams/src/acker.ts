import type { Cluster, Redis } from 'ioredis'

interface Batch {
  readonly ids: string[]
  readonly done: Promise<void>
  resolve(): void
  reject(error: unknown): void
}

/**
 * Batches XACKs: every ack asked for in the same turn of the event loop goes out as one
 * `XACK key group id id …` per stream, and every caller gets the one promise of that batch, which
 * settles with the server's reply. An ack is still confirmed; only round trips (and promises) are shared.
 */
export class Acker {
  private readonly batches = new Map<string, Batch>()
  private scheduled = false
  private readonly inFlight = new Set<Promise<void>>()

  constructor(
    private readonly client: Redis | Cluster,
    private readonly group: string,
  ) {}

  ack(key: string, id: string): Promise<void> {
    const batch = this.batch(key)
    batch.ids.push(id)
    return batch.done
  }

  /** Acknowledge without waiting (entries a group does not listen to); failures only leave them pending. */
  ackQuietly(key: string, ids: readonly string[], onError: (error: unknown) => void): void {
    const batch = this.batch(key)
    for (const id of ids) batch.ids.push(id)
    batch.done.catch(onError)
  }

  /** Resolves once every ack requested so far has been answered. */
  async flush(): Promise<void> {
    this.send()
    await Promise.allSettled([...this.inFlight])
  }

  private batch(key: string): Batch {
    let batch = this.batches.get(key)
    if (!batch) {
      let resolve!: () => void
      let reject!: (error: unknown) => void
      const done = new Promise<void>((ok, fail) => {
        resolve = ok
        reject = fail
      })
      // A batch nobody awaits (quiet acks only) must not become an unhandled rejection.
      done.catch(() => {})
      batch = { ids: [], done, resolve, reject }
      this.batches.set(key, batch)
      if (!this.scheduled) {
        this.scheduled = true
        setImmediate(() => this.send())
      }
    }
    return batch
  }

  private send(): void {
    this.scheduled = false
    for (const [key, batch] of this.batches) {
      const request = this.client.xack(key, this.group, ...batch.ids).then(
        () => batch.resolve(),
        (error: unknown) => batch.reject(error),
      )
      this.inFlight.add(request)
      void request.finally(() => this.inFlight.delete(request))
    }
    this.batches.clear()
  }
}
