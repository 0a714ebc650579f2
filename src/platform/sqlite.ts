/** A prepared statement: the three calls the store makes. */
export type SqliteStatement = {
  get(...params: SqliteValue[]): Record<string, SqliteValue> | undefined
  all(...params: SqliteValue[]): Record<string, SqliteValue>[]
  run(...params: SqliteValue[]): { changes: number }
}

export type SqliteValue = string | number | bigint | null | Uint8Array

/** The SQLite connection the disk store needs, the same on Bun (`bun:sqlite`) and Deno (`node:sqlite`). */
export type SqliteDatabase = {
  exec(sql: string): void
  prepare(sql: string): SqliteStatement
  /** Run `fn` inside BEGIN IMMEDIATE … COMMIT (ROLLBACK on throw). */
  transaction(fn: () => void): void
  close(): void
}

/** Wrap statements' execution in one write transaction. */
export function withTransaction(exec: (sql: string) => void, fn: () => void): void {
  exec('BEGIN IMMEDIATE')
  try {
    fn()
    exec('COMMIT')
  } catch (error) {
    exec('ROLLBACK')
    throw error
  }
}
