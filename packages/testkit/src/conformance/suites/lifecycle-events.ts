import { describe, expect, it } from 'vitest'
import { waitUntil } from '../../wait.js'
import type { ConformanceHarness } from '../harness.js'

/** SPEC §8: the bus reports what happens to events as typed lifecycle events. */
export function lifecycleEventsSuite(h: ConformanceHarness): void {
  describe('lifecycle events (§8)', () => {
    it('emits lifecycle events for publish, receive, handle, retry and dead letter', async () => {
      const seen: string[] = []
      const bus = h.bus()
      for (const name of [
        'published',
        'received',
        'handled',
        'failed',
        'retry-scheduled',
        'dead-lettered',
      ] as const) {
        bus.on(name, () => seen.push(name))
      }
      bus.listen(
        'lifecycle.checked',
        (event) => {
          if ((event.data as { fail: boolean }).fail) throw new Error('no')
        },
        { name: 'observer', retry: { maxAttempts: 2, backoff: () => 10 } },
      )
      await bus.start()
      await bus.publish('lifecycle.checked', { fail: false })
      await bus.publish('lifecycle.checked', { fail: true })
      await waitUntil(() => seen.includes('dead-lettered'), {
        timeoutMs: 5000,
        what: 'a dead-lettered event',
        seen: () => `Saw ${seen.join(', ')}.`,
      })
      expect(new Set(seen)).toEqual(
        new Set(['published', 'received', 'handled', 'failed', 'retry-scheduled', 'dead-lettered']),
      )
    })
  })
}
