/**
 * The one thing both stores need from a database: run a statement with parameters, get rows. `pg`'s
 * Pool and PGlite both have this shape, so the journal's SQL is written once and runs on both.
 */
export interface SqlClient {
  query<Row extends object = Record<string, unknown>>(
    text: string,
    params?: readonly unknown[],
  ): Promise<{ rows: Row[] }>
  /** Statements separated by `;`, no parameters (migrations). */
  exec(text: string): Promise<void>
  /** Runs `work` in one transaction on one connection: committed when it resolves, rolled back when it throws. */
  transaction(work: (transaction: SqlTransaction) => Promise<void>): Promise<void>
  close(): Promise<void>
}

export interface SqlTransaction {
  query(text: string, params?: readonly unknown[]): Promise<unknown>
}
