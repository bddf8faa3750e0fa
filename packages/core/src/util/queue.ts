/** FIFO with O(1) shift (Array#shift is O(n) on large arrays). */
export class Queue<T> {
  private items: (T | undefined)[] = []
  private head = 0

  get length(): number {
    return this.items.length - this.head
  }

  push(item: T): void {
    this.items.push(item)
  }

  unshift(item: T): void {
    if (this.head > 0) {
      this.head -= 1
      this.items[this.head] = item
    } else {
      this.items.unshift(item)
    }
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined
    const item = this.items[this.head]
    this.items[this.head] = undefined
    this.head += 1
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head)
      this.head = 0
    }
    return item
  }

  /** The oldest item, left in place. */
  peek(): T | undefined {
    return this.head < this.items.length ? this.items[this.head] : undefined
  }

  /** Visits every item, oldest first, without removing any. */
  forEach(visit: (item: T) => void): void {
    for (let index = this.head; index < this.items.length; index += 1) visit(this.items[index] as T)
  }

  drain(): T[] {
    const rest = this.items.slice(this.head) as T[]
    this.items = []
    this.head = 0
    return rest
  }
}
