import { TidingsError } from '@tidings/core'

/** A journal query that cannot be read; the message points at the place and says what is expected. */
export class JournalQueryError extends TidingsError {
  readonly query: string
  readonly position: number

  constructor(query: string, position: number, expected: string) {
    super(
      'TIDINGS_JOURNAL_QUERY',
      `Cannot read the journal query at character ${position + 1} ("${query.slice(position, position + 20)}"): ${expected}. Examples: type:order.* AND data.customer.email = "a@b.c", data.orderId: CK* OR outcome:dead.`,
    )
    this.query = query
    this.position = position
  }
}
