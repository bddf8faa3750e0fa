import type { Cluster, Redis } from 'ioredis'

/**
 * Batches XACKs: every ack asked for in the same tick goes out as one `XACK key group id id …` per
 * stream. Callers do not wait for the reply: for at-least-once a lost XACK only leaves the entry
 * pending, to be reclaimed after ackTimeoutMs (a duplicate, never a loss), so a failed batch is
 * reported once to `onError` instead of through a promise per ack.
 */
export class Acker {
  private readonly batches = new Map<string, string[]>()
  private scheduled = false
  private readonly inFlight = new Set<Promise<void>>()

  constructor(
    private readonly client: Redis | Cluster,
    private readonly group: string,
    private readonly onError: (error: unknown, count: number) => void,
  ) {}

  ack(key: string, id: string): void {
    this.batch(key).push(id)
  }

  ackMany(key: string, ids: readonly string[]): void {
    const batch = this.batch(key)
    for (const id of ids) batch.push(id)
  }

  /** Resolves once every ack requested so far has been answered (or has failed). */
  async flush(): Promise<void> {
    this.send()
    await Promise.allSettled([...this.inFlight])
  }

  private batch(key: string): string[] {
    let ids = this.batches.get(key)
    if (!ids) {
      ids = []
      this.batches.set(key, ids)
      if (!this.scheduled) {
        this.scheduled = true
        process.nextTick(this.send)
      }
    }
    return ids
  }

  private readonly send = (): void => {
    this.scheduled = false
    for (const [key, ids] of this.batches) {
      const request = this.client.xack(key, this.group, ...ids).then(
        () => {},
        (error: unknown) => this.onError(error, ids.length),
      )
      this.inFlight.add(request)
      void request.finally(() => this.inFlight.delete(request))
    }
    this.batches.clear()
  }
}
