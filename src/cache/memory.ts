/** One cached answer held in memory. */
export type MemoryEntry = {
  resultJson: string
  /** Accounted size: key plus result, in UTF-16 code units (what the engine may hold). */
  bytes: number
  /** Last access (ms). */
  accessedAtMs: number
  /** When the disk store last heard of an access to this entry (ms). */
  touchedAtMs: number
}

export type MemoryCacheOptions = { maxItems: number; maxBytes: number }

/**
 * An O(1) LRU bounded by entry count and bytes. A `Map` keeps insertion order, so re-inserting on
 * access moves an entry to the young end and the first key is always the least recently used.
 */
export class MemoryCache {
  private readonly entries = new Map<string, MemoryEntry>()
  private totalBytes = 0

  constructor(private readonly options: MemoryCacheOptions) {}

  /** The entry for `key`, now the most recently used. */
  get(key: string, nowMs: number): MemoryEntry | undefined {
    const entry = this.entries.get(key)
    if (entry === undefined) return undefined
    this.entries.delete(key)
    this.entries.set(key, entry)
    entry.accessedAtMs = nowMs
    return entry
  }

  /** Insert or replace; evicts least recently used entries past either bound. */
  set(key: string, resultJson: string, nowMs: number): void {
    const bytes = (key.length + resultJson.length) * 2 + ENTRY_OVERHEAD_BYTES
    if (bytes > this.options.maxBytes || this.options.maxItems === 0) return
    this.delete(key)
    this.entries.set(key, { resultJson, bytes, accessedAtMs: nowMs, touchedAtMs: nowMs })
    this.totalBytes += bytes
    while (this.entries.size > this.options.maxItems || this.totalBytes > this.options.maxBytes) {
      const oldest = this.entries.keys().next().value as string
      this.delete(oldest)
    }
  }

  delete(key: string): boolean {
    const entry = this.entries.get(key)
    if (entry === undefined) return false
    this.entries.delete(key)
    this.totalBytes -= entry.bytes
    return true
  }

  /** Delete every key for which `matches` is true; returns how many went. */
  deleteWhere(matches: (key: string) => boolean): number {
    let count = 0
    for (const key of [...this.entries.keys()]) if (matches(key) && this.delete(key)) count++
    return count
  }

  /** Access times (ms) of the least and most recently used entries. */
  accessRange(): { oldestMs: number; newestMs: number } | undefined {
    let oldest: MemoryEntry | undefined
    let newest: MemoryEntry | undefined
    for (const entry of this.entries.values()) {
      oldest ??= entry
      newest = entry
    }
    return oldest && newest ? { oldestMs: oldest.accessedAtMs, newestMs: newest.accessedAtMs } : undefined
  }

  clear(): void {
    this.entries.clear()
    this.totalBytes = 0
  }

  get size(): number {
    return this.entries.size
  }

  get bytes(): number {
    return this.totalBytes
  }
}

/** A rough per-entry cost of the Map slot and entry object, so many tiny answers stay bounded too. */
const ENTRY_OVERHEAD_BYTES = 96
