/**
 * Waits for `work` at most `ms`, then goes on whatever it does, and says whether it settled in
 * time. For what close() asks of a broker that may be unreachable (flushing acks, draining,
 * removing an ephemeral group): close() stays bounded (G10), and whatever is left undone must be
 * safe to leave (unsettled messages are redelivered; the broker removes an abandoned ephemeral group).
 * A rejection counts as settled: close() has nothing better to do with it. The timer is cleared, so
 * a closed transport does not hold the process open for `ms`.
 */
export function atMost(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  return Promise.race([
    work.then(
      () => true,
      () => true,
    ),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), ms)
    }),
  ]).finally(() => clearTimeout(timer))
}
