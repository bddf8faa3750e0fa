import type { Logger } from '../../observability/logger.js'

/**
 * The one double-settle rule every transport shares: the first ack, retry, dead letter or release
 * wins; a later one does nothing and is logged as a warning (core never settles twice, so a second
 * call is a bug worth seeing, never a reason to ack twice).
 */
export class SettleOnce {
  private settledBy: string | undefined

  get settled(): boolean {
    return this.settledBy !== undefined
  }

  /** True when this call may settle; false (after a warning) when the delivery was settled already. */
  claim(operation: string, logger: Logger, group: string): boolean {
    if (this.settledBy === undefined) {
      this.settledBy = operation
      return true
    }
    logger.warn(
      { group, operation, settledBy: this.settledBy },
      'a delivery was settled twice; the second settlement was ignored',
    )
    return false
  }
}
