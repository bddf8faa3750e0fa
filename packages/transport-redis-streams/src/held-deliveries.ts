import type { StreamDelivery } from './delivery.js'

/**
 * The entries one subscription owns, from the moment they are read or claimed until they are
 * released (every one is handed to core at once; core holds them in order).
 *
 * They live in an array that are reused, not in a Map and a growing queue: a consumer at 100k
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
  /** Entries held. */
  get size(): number {
    return this.count
  }

  /** Hold a newly read or claimed entry. */
  add(delivery: StreamDelivery): void {
    let slot = this.freeSlots.pop()
    if (slot === undefined) {
      slot = this.slots.length
      this.slots.push(undefined)
    }
    this.slots[slot] = delivery
    delivery.slot = slot
    this.count += 1
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
}
