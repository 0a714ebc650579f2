import { mkdir, rename, stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { SqliteDatabase } from '../platform/index.ts'

export type DiskStoreOptions = {
  /** The chain's cache directory, `<cache-dir>/rpc/<chain>`. */
  dir: string
  /** Bound on entries in the store (SPEC §5.3: the whole cache). */
  maxItems: number
  /** The runtime's SQLite (`platform.openSqlite`), passed down from the composition root. */
  openSqlite: (path: string) => SqliteDatabase | Promise<SqliteDatabase>
  warn: (message: string) => void
  now?: () => number
}

/** A reference-cache entry kept apart, found only by the reference's key. */
export type ImportedRow = { key: string; method: string; resultJson: string; accessedAt: number }

/** The embedded SQLite store of one chain. Reads are synchronous; writes are batched (`flush`). */
export type DiskStore = {
  readonly path: string
  get(key: string): string | undefined
  /** Queue an entry; durable at the next flush (about every 250 ms). `proven`: its state was proven (SPEC §15). */
  put(key: string, method: string, resultJson: string, proven?: boolean): void
  /** Whether the entry under `key` was stored proven (SPEC §15). */
  isProven(key: string): boolean
  /** Queue a recency update for the LRU order. */
  touch(key: string): void
  flush(): void
  count(): number
  /** Access times (ms) of the least and most recently used entries. */
  accessRange(): { oldestMs: number; newestMs: number } | undefined
  deleteKey(key: string): number
  deleteMethod(method: string): number
  clear(): void
  /** Whether any reference entries were imported (so misses are worth a reference-key lookup). */
  readonly hasImported: boolean
  getImported(key: string): ImportedRow | undefined
  addImported(rows: ImportedRow[], source: string): void
  importedFrom(): string | undefined
  close(): void
}

const FILE_NAME = 'cache.sqlite'
const FLUSH_INTERVAL_MS = 250
const SCHEMA = `
  CREATE TABLE IF NOT EXISTS entries (key TEXT PRIMARY KEY, method TEXT NOT NULL, result TEXT NOT NULL, accessed_at INTEGER NOT NULL) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS entries_by_access ON entries (accessed_at);
  CREATE INDEX IF NOT EXISTS entries_by_method ON entries (method);
  CREATE TABLE IF NOT EXISTS imported (key TEXT PRIMARY KEY, method TEXT NOT NULL, result TEXT NOT NULL, accessed_at INTEGER NOT NULL) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS proven (key TEXT PRIMARY KEY) WITHOUT ROWID;
`

/**
 * Open the chain's store (SQLite in WAL mode, safe to share between processes). A store that is
 * not a database or is corrupt is moved aside with a timestamp and reported, never silently emptied.
 */
export async function openDiskStore(options: DiskStoreOptions): Promise<DiskStore> {
  await mkdir(options.dir, { recursive: true })
  const path = join(options.dir, FILE_NAME)
  try {
    return createDiskStore(await openChecked(path, options.openSqlite), path, options)
  } catch (error) {
    if (!isCorruption(error)) throw error
    await replaceCorrupt(path, error, options.warn)
    return createDiskStore(await openChecked(path, options.openSqlite), path, options)
  }
}

async function replaceCorrupt(path: string, error: unknown, warn: (message: string) => void): Promise<void> {
  const aside = await moveAside(path)
  warn(
    `the cache store ${path} is corrupt (${(error as Error).message}); moved it aside to ${aside} and started a new one`,
  )
}

async function openChecked(path: string, openSqlite: DiskStoreOptions['openSqlite']): Promise<SqliteDatabase> {
  const db = await openSqlite(path)
  try {
    db.exec('PRAGMA busy_timeout = 5000')
    db.exec('PRAGMA journal_mode = WAL')
    db.exec('PRAGMA synchronous = NORMAL')
    db.exec(SCHEMA)
    // One row read proves the table is readable; COUNT(*) would walk a million rows while edb_ping waits.
    db.prepare('SELECT key FROM entries LIMIT 1').get()
    return db
  } catch (error) {
    db.close()
    throw error
  }
}

function isCorruption(error: unknown): boolean {
  const { code, message } = error as { code?: unknown; message?: unknown }
  return /SQLITE_(CORRUPT|NOTADB)/.test(String(code)) || /not a database|malformed|corrupt/i.test(String(message))
}

async function moveAside(path: string): Promise<string> {
  const aside = `${path}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`
  await rename(path, aside)
  for (const suffix of ['-wal', '-shm']) {
    await stat(path + suffix).then(
      () => rename(path + suffix, aside + suffix),
      () => {},
    )
  }
  return aside
}

function createDiskStore(opened: SqliteDatabase, path: string, options: DiskStoreOptions): DiskStore {
  const now = options.now ?? Date.now
  let db = opened
  let statements = prepareAll(db)
  let broken = false
  const pendingPuts = new Map<string, { method: string; resultJson: string; at: number; proven: boolean }>()
  const pendingTouches = new Map<string, number>()
  // Counted at the first flush, not at open: COUNT(*) over a million rows blocks for ~70 ms, and
  // opening happens while the proxy must already answer edb_ping (SPEC §10: 150 ms from spawn).
  let approximateCount: number | undefined
  let hasImported = statements.anyImported.get() !== undefined
  let timer: ReturnType<typeof setTimeout> | undefined
  let closed = false

  /** Run a store operation; corruption found at run time moves the file aside and reopens a fresh one. */
  const guard = <T>(fallback: T, operation: () => T): T => {
    if (broken) return fallback
    try {
      return operation()
    } catch (error) {
      if (!isCorruption(error)) throw error
      broken = true
      void recover(error)
      return fallback
    }
  }
  const recover = async (error: unknown) => {
    try {
      db.close()
    } catch {
      // already unusable
    }
    await replaceCorrupt(path, error, options.warn)
    db = await openChecked(path, options.openSqlite)
    statements = prepareAll(db)
    approximateCount = 0
    broken = false
  }
  const schedule = () => {
    timer ??= setTimeout(() => {
      timer = undefined
      store.flush()
    }, FLUSH_INTERVAL_MS)
  }
  const countRows = () => Number(statements.count.get()?.n ?? 0)

  const store: DiskStore = {
    path,
    get hasImported() {
      return hasImported
    },
    get(key) {
      const pending = pendingPuts.get(key)
      if (pending !== undefined) return pending.resultJson
      return guard(undefined, () => {
        const row = statements.get.get(key)
        return row === undefined ? undefined : String(row.result)
      })
    },
    put(key, method, resultJson, proven = false) {
      pendingPuts.set(key, { method, resultJson, at: now(), proven })
      schedule()
    },
    isProven(key) {
      const pending = pendingPuts.get(key)
      if (pending !== undefined) return pending.proven
      return guard(false, () => statements.isProven.get(key) !== undefined)
    },
    touch(key) {
      pendingTouches.set(key, now())
      schedule()
    },
    flush() {
      if (closed || (pendingPuts.size === 0 && pendingTouches.size === 0)) return
      const puts = [...pendingPuts]
      const touches = [...pendingTouches]
      pendingPuts.clear()
      pendingTouches.clear()
      guard(undefined, () =>
        db.transaction(() => {
          approximateCount ??= countRows()
          for (const [key, entry] of puts) {
            statements.put.run(key, entry.method, entry.resultJson, entry.at)
            // Every store says whether it was proven: a row left from an earlier answer never speaks for this one.
            if (entry.proven) statements.prove.run(key)
            else statements.unprove.run(key)
          }
          for (const [key, at] of touches) statements.touch.run(at, key)
          approximateCount += puts.length
          // SPEC §5.3: the bound covers the whole cache; the least recently used rows go first.
          if (approximateCount > options.maxItems) {
            approximateCount = countRows()
            const excess = approximateCount - options.maxItems
            if (excess > 0) {
              statements.unproveOldest.run(excess)
              approximateCount -= statements.evict.run(excess).changes
            }
          }
        }),
      )
    },
    count() {
      return guard(0, countRows) + pendingPuts.size
    },
    accessRange() {
      store.flush()
      return guard(undefined, () => {
        const row = statements.range.get()
        if (row === undefined || row.oldest === null) return undefined
        return { oldestMs: Number(row.oldest), newestMs: Number(row.newest) }
      })
    },
    deleteKey(key) {
      pendingPuts.delete(key)
      return guard(0, () => {
        statements.unprove.run(key)
        return statements.deleteKey.run(key).changes + statements.deleteImported.run(key).changes
      })
    },
    deleteMethod(method) {
      for (const [key, entry] of pendingPuts) if (entry.method === method) pendingPuts.delete(key)
      return guard(0, () => {
        statements.unproveMethod.run(method)
        return statements.deleteMethod.run(method).changes + statements.deleteImportedMethod.run(method).changes
      })
    },
    clear() {
      pendingPuts.clear()
      pendingTouches.clear()
      guard(undefined, () => db.exec('DELETE FROM entries; DELETE FROM imported; DELETE FROM proven;'))
      approximateCount = 0
      hasImported = false
    },
    getImported(key) {
      return guard(undefined, () => {
        const row = statements.getImported.get(key)
        if (row === undefined) return undefined
        return { key, method: String(row.method), resultJson: String(row.result), accessedAt: Number(row.accessed_at) }
      })
    },
    addImported(rows, source) {
      guard(undefined, () =>
        db.transaction(() => {
          for (const row of rows) statements.putImported.run(row.key, row.method, row.resultJson, row.accessedAt)
          statements.setMeta.run('reference_import', source)
        }),
      )
      hasImported = rows.length > 0 || hasImported
    },
    importedFrom() {
      return guard(undefined, () => {
        const row = statements.getMeta.get('reference_import')
        return row === undefined ? undefined : String(row.value)
      })
    },
    close() {
      if (closed) return
      clearTimeout(timer)
      store.flush()
      db.close()
      closed = true
    },
  }
  return store
}

function prepareAll(db: SqliteDatabase) {
  return {
    get: db.prepare('SELECT result FROM entries WHERE key = ?'),
    put: db.prepare(
      'INSERT INTO entries (key, method, result, accessed_at) VALUES (?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET result = excluded.result, accessed_at = excluded.accessed_at',
    ),
    touch: db.prepare('UPDATE entries SET accessed_at = ? WHERE key = ?'),
    isProven: db.prepare('SELECT 1 AS one FROM proven WHERE key = ?'),
    prove: db.prepare('INSERT OR IGNORE INTO proven (key) VALUES (?)'),
    unprove: db.prepare('DELETE FROM proven WHERE key = ?'),
    // A proven mark goes with its entry (evicted or deleted), so the table never outgrows the cache.
    unproveMethod: db.prepare('DELETE FROM proven WHERE key IN (SELECT key FROM entries WHERE method = ?)'),
    unproveOldest: db.prepare(
      'DELETE FROM proven WHERE key IN (SELECT key FROM entries ORDER BY accessed_at ASC LIMIT ?)',
    ),
    count: db.prepare('SELECT COUNT(*) AS n FROM entries'),
    evict: db.prepare('DELETE FROM entries WHERE key IN (SELECT key FROM entries ORDER BY accessed_at ASC LIMIT ?)'),
    range: db.prepare('SELECT MIN(accessed_at) AS oldest, MAX(accessed_at) AS newest FROM entries'),
    deleteKey: db.prepare('DELETE FROM entries WHERE key = ?'),
    deleteImported: db.prepare('DELETE FROM imported WHERE key = ?'),
    deleteMethod: db.prepare('DELETE FROM entries WHERE method = ?'),
    deleteImportedMethod: db.prepare('DELETE FROM imported WHERE method = ?'),
    anyImported: db.prepare('SELECT 1 AS one FROM imported LIMIT 1'),
    getImported: db.prepare('SELECT method, result, accessed_at FROM imported WHERE key = ?'),
    putImported: db.prepare(
      'INSERT INTO imported (key, method, result, accessed_at) VALUES (?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET result = excluded.result',
    ),
    getMeta: db.prepare('SELECT value FROM meta WHERE key = ?'),
    setMeta: db.prepare(
      'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    ),
  }
}
