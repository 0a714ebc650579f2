/** One cached answer held in memory. */
export type MemoryEntry = {
  resultJson: string
  /** Accounted size: key plus result, in UTF-16 code units (what the engine may hold). */
  bytes: number
  /** Last access (ms). */
  accessedAtMs: number
  /** When the disk store last heard of an access to this entry (ms). */
  touchedAtMs: number
  /** Its state was proven before it was stored (SPEC §15). */
  proven: boolean
}

export type MemoryCacheOptions = { maxItems: number; maxBytes: number }

type Node = MemoryEntry & { key: string; older: Node | undefined; newer: Node | undefined }

/**
 * An O(1) LRU bounded by entry count and bytes: a `Map` finds entries, an intrusive doubly linked
 * list keeps their recency. (Re-inserting into a `Map` to track recency degrades badly once many
 * deletions leave holes at its front, so the order lives in the list.)
 */
export class MemoryCache {
  private readonly nodes = new Map<string, Node>()
  private oldest: Node | undefined
  private newest: Node | undefined
  private totalBytes = 0
  /** Entries pushed out by the bounds so far. */
  evictions = 0

  constructor(private readonly options: MemoryCacheOptions) {}

  /** The entry for `key`, now the most recently used. */
  get(key: string, nowMs: number): MemoryEntry | undefined {
    const node = this.nodes.get(key)
    if (node === undefined) return undefined
    node.accessedAtMs = nowMs
    if (node !== this.newest) {
      this.unlink(node)
      this.append(node)
    }
    return node
  }

  /** The entry under `key`, without counting it as used. */
  peekEntry(key: string): MemoryEntry | undefined {
    return this.nodes.get(key)
  }

  /** Insert or replace; evicts least recently used entries past either bound. */
  set(key: string, resultJson: string, nowMs: number, proven = false): void {
    const bytes = (key.length + resultJson.length) * 2 + ENTRY_OVERHEAD_BYTES
    if (bytes > this.options.maxBytes || this.options.maxItems === 0) return
    this.delete(key)
    const node: Node = {
      key,
      resultJson,
      bytes,
      accessedAtMs: nowMs,
      touchedAtMs: nowMs,
      proven,
      older: undefined,
      newer: undefined,
    }
    this.nodes.set(key, node)
    this.append(node)
    this.totalBytes += bytes
    while (
      this.oldest !== undefined &&
      (this.nodes.size > this.options.maxItems || this.totalBytes > this.options.maxBytes)
    ) {
      this.delete(this.oldest.key)
      this.evictions += 1
    }
  }

  delete(key: string): boolean {
    const node = this.nodes.get(key)
    if (node === undefined) return false
    this.nodes.delete(key)
    this.unlink(node)
    this.totalBytes -= node.bytes
    return true
  }

  /** Delete every key for which `matches` is true; returns how many went. */
  deleteWhere(matches: (key: string) => boolean): number {
    let count = 0
    for (const key of [...this.nodes.keys()]) if (matches(key) && this.delete(key)) count++
    return count
  }

  /** Access times (ms) of the least and most recently used entries. */
  accessRange(): { oldestMs: number; newestMs: number } | undefined {
    if (this.oldest === undefined || this.newest === undefined) return undefined
    return { oldestMs: this.oldest.accessedAtMs, newestMs: this.newest.accessedAtMs }
  }

  clear(): void {
    this.nodes.clear()
    this.oldest = undefined
    this.newest = undefined
    this.totalBytes = 0
  }

  get size(): number {
    return this.nodes.size
  }

  get bytes(): number {
    return this.totalBytes
  }

  private append(node: Node): void {
    node.older = this.newest
    node.newer = undefined
    if (this.newest !== undefined) this.newest.newer = node
    this.newest = node
    this.oldest ??= node
  }

  private unlink(node: Node): void {
    if (node.older !== undefined) node.older.newer = node.newer
    else this.oldest = node.newer
    if (node.newer !== undefined) node.newer.older = node.older
    else this.newest = node.older
    node.older = undefined
    node.newer = undefined
  }
}

/** A rough per-entry cost of the Map slot and entry object, so many tiny answers stay bounded too. */
const ENTRY_OVERHEAD_BYTES = 128
