/**
 * Deadlines for many concurrent operations with one timer: publish() bounds every XADD by
 * publishTimeoutMs, and a timer per publish costs more than the XADD itself at high rates.
 * A sweep every `resolutionMs` rejects what is overdue, so a deadline fires up to that much late.
 */
export class Deadlines {
  private readonly pending = new Set<{ readonly due: number; readonly expire: () => void }>()
  private timer: NodeJS.Timeout | undefined

  constructor(private readonly resolutionMs = 50) {}

  /** Resolves like `promise`, or rejects with `onTimeout()` once `ms` have passed. */
  bound<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry = { due: Date.now() + ms, expire: () => reject(onTimeout()) }
      this.pending.add(entry)
      this.arm()
      promise.then(
        (value) => {
          this.pending.delete(entry)
          resolve(value)
        },
        (error: unknown) => {
          this.pending.delete(entry)
          reject(error)
        },
      )
    })
  }

  private arm(): void {
    if (this.timer) return
    this.timer = setInterval(() => this.sweep(), this.resolutionMs)
    this.timer.unref()
  }

  private sweep(): void {
    const now = Date.now()
    for (const entry of this.pending) {
      if (entry.due <= now) {
        this.pending.delete(entry)
        entry.expire()
      }
    }
    if (this.pending.size === 0 && this.timer) {
      clearInterval(this.timer)
      this.timer = undefined
    }
  }
}
