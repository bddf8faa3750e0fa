import type { StreamDelivery } from './delivery.js'

/**
 * The entries one subscription owns, from the moment they are read or claimed until they are
 * released, and the order in which those not yet handed to core wait for a handler slot.
 *
 * Both live in arrays that are reused, not in a Map and a growing queue: a consumer at 100k
 * entries/s that sets and deletes Map keys (or pushes and shifts an array) keeps reallocating
 * their backing stores, and each dead store in the old generation still points at entries and keeps
 * them alive through young-generation collections. That promoted most entry bodies to the old
 * generation and cost more CPU than the reading itself. Here a released slot is simply cleared.
 * Look-ups by id scan the slots: they happen only when claiming or extending leases, over at most
 * a few hundred entries.
 */
export class HeldDeliveries {
  private readonly slots: (StreamDelivery | undefined)[] = []
  private readonly freeSlots: number[] = []
  private count = 0
  /** Ring buffer of deliveries waiting for a handler slot, oldest at `head`. */
  private waiting: (StreamDelivery | undefined)[] = new Array(16).fill(undefined)
  private head = 0
  private waitingCount = 0

  /** Entries held, handed to core or not. */
  get size(): number {
    return this.count
  }

  /** Hold a newly read or claimed entry; it waits for a handler slot in arrival order. */
  add(delivery: StreamDelivery): void {
    let slot = this.freeSlots.pop()
    if (slot === undefined) {
      slot = this.slots.length
      this.slots.push(undefined)
    }
    this.slots[slot] = delivery
    delivery.slot = slot
    this.count += 1
    if (this.waitingCount === this.waiting.length) this.growWaiting()
    this.waiting[(this.head + this.waitingCount) % this.waiting.length] = delivery
    this.waitingCount += 1
  }

  /** The oldest delivery still waiting (skipping ones released meanwhile), or undefined. */
  nextWaiting(): StreamDelivery | undefined {
    while (this.waitingCount > 0) {
      const delivery = this.waiting[this.head]!
      this.waiting[this.head] = undefined
      this.head = (this.head + 1) % this.waiting.length
      this.waitingCount -= 1
      if (!delivery.released) return delivery
    }
    return undefined
  }

  /** Every delivery still waiting, oldest first; none waits afterwards. */
  takeWaiting(): StreamDelivery[] {
    const taken: StreamDelivery[] = []
    for (let delivery = this.nextWaiting(); delivery; delivery = this.nextWaiting()) taken.push(delivery)
    return taken
  }

  remove(delivery: StreamDelivery): void {
    const slot = delivery.slot
    if (slot < 0 || this.slots[slot] !== delivery) return
    this.slots[slot] = undefined
    this.freeSlots.push(slot)
    delivery.slot = -1
    this.count -= 1
  }

  has(stream: string, entryId: string): boolean {
    return this.find(stream, entryId) !== undefined
  }

  find(stream: string, entryId: string): StreamDelivery | undefined {
    for (const delivery of this.slots) {
      if (delivery !== undefined && delivery.entryId === entryId && delivery.stream === stream)
        return delivery
    }
    return undefined
  }

  /** Every held delivery (a copy: releasing while iterating is safe). */
  all(): StreamDelivery[] {
    return this.slots.filter((delivery): delivery is StreamDelivery => delivery !== undefined)
  }

  private growWaiting(): void {
    const grown: (StreamDelivery | undefined)[] = new Array(this.waiting.length * 2).fill(undefined)
    for (let i = 0; i < this.waitingCount; i += 1) {
      grown[i] = this.waiting[(this.head + i) % this.waiting.length]
    }
    this.waiting = grown
    this.head = 0
  }
}
