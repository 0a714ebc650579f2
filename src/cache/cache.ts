import { percent } from '../util/percent.ts'
import { MemoryCache } from './memory.ts'
import { type CachePlan, planCall } from './policy.ts'
import { referenceKey } from './reference-key.ts'
import type { DiskStore } from './store.ts'

export type CacheOptions = {
  /** SPEC §5.3: bound of the whole cache (0 disables caching). */
  maxItems: number
  /** Bound of the hot subset held in memory. */
  maxMemoryBytes: number
  now?: () => number
}

/** `edb_cache_stats`, with the reference's field names and types (SPEC §4). */
export type CacheStats = {
  total_entries: number
  max_entries: number
  utilization: string
  oldest_entry_age_seconds: number | null
  newest_entry_age_seconds: number | null
  cache_file_path: string
}

/** The cache: memory first, then the disk store, then entries imported from the reference. */
export type Cache = {
  /** Whether calls may be looked up and stored now (caching on and the chain known). */
  readonly ready: boolean
  /** Memory, then disk; the result as raw JSON text. */
  lookup(plan: CachePlan): string | undefined
  /** The result held in memory under `key` (marked as used), for remembered replies. */
  peek(key: string): string | undefined
  /** On a miss: the result of an entry imported from the reference cache, not yet judged final (the pipeline does). */
  imported(plan: CachePlan, params: unknown): string | undefined
  /** Store an answer the pipeline judged final; dropped when the cache was invalidated since `epoch`. `proven`: SPEC §15. */
  store(plan: CachePlan, resultJson: string, epoch: number, proven?: boolean): void
  /** Whether the entry under `key` was stored with its state proven (SPEC §15). */
  isProven(key: string): boolean
  /** Invalidation counter: stores begun before a history rewrite are dropped. */
  readonly epoch: number
  /** Forget everything (memory and disk): a development chain rewrote its history. */
  invalidate(): void
  /** Begin caching with `store` (undefined: memory only, for development chains). */
  attach(store: DiskStore | undefined, memoryOnlyReason?: string): void
  deleteMethod(method: string): number
  deleteCall(method: string, params: unknown): number
  stats(): CacheStats
  /** Counters for the metrics: answers stored, memory evictions, memory bytes. */
  counters(): { stores: number; evictions: number; memoryBytes: number }
  /** Write everything pending to disk. */
  close(): void
}

const TOUCH_EVERY_MS = 60_000

/** Compose memory and disk into the cache the pipeline consults; whether an answer is final is the pipeline's call. */
export function createCache(options: CacheOptions): Cache {
  const now = options.now ?? Date.now
  const memory = new MemoryCache({ maxItems: options.maxItems, maxBytes: options.maxMemoryBytes })
  let store: DiskStore | undefined
  let attached = false
  let memoryOnlyReason = 'caching disabled (--max-cache-items 0)'
  let epoch = 0
  let stores = 0

  const remember = (plan: CachePlan, resultJson: string, proven: boolean) => {
    stores += 1
    memory.set(plan.key, resultJson, now(), proven)
    store?.put(plan.key, plan.method, resultJson, proven)
  }

  return {
    get ready() {
      return attached
    },
    get epoch() {
      return epoch
    },
    lookup(plan) {
      const at = now()
      const entry = memory.get(plan.key, at)
      if (entry !== undefined) {
        if (store !== undefined && at - entry.touchedAtMs > TOUCH_EVERY_MS) {
          entry.touchedAtMs = at
          store.touch(plan.key)
        }
        return entry.resultJson
      }
      const fromDisk = store?.get(plan.key)
      if (fromDisk !== undefined) {
        memory.set(plan.key, fromDisk, now(), store?.isProven(plan.key) ?? false)
        store?.touch(plan.key)
        return fromDisk
      }
      return undefined
    },
    peek(key) {
      return memory.get(key, now())?.resultJson
    },
    imported(plan, params) {
      return store?.hasImported ? store.getImported(referenceKey(plan.method, params))?.resultJson : undefined
    },
    store(plan, resultJson, startEpoch, proven = false) {
      if (attached && startEpoch === epoch) remember(plan, resultJson, proven)
    },
    isProven(key) {
      return memory.peekEntry(key)?.proven ?? store?.isProven(key) ?? false
    },
    invalidate() {
      epoch++
      memory.clear()
      store?.clear()
    },
    attach(diskStore, reason) {
      if (options.maxItems === 0) return
      store = diskStore
      if (reason !== undefined) memoryOnlyReason = reason
      attached = true
    },
    deleteMethod(method) {
      const prefix = `${method}:`
      const fromMemory = memory.deleteWhere((key) => key.startsWith(prefix))
      return Math.max(fromMemory, store?.deleteMethod(method) ?? 0)
    },
    deleteCall(method, params) {
      const plan = planCall(method, params)
      if (plan === undefined) return 0
      const fromMemory = memory.delete(plan.key) ? 1 : 0
      const fromDisk = (store?.deleteKey(plan.key) ?? 0) + (store?.deleteKey(referenceKey(method, params)) ?? 0)
      return Math.max(fromMemory, fromDisk)
    },
    stats() {
      store?.flush()
      const total = store?.count() ?? memory.size
      const range = store?.accessRange() ?? memory.accessRange()
      const ageSeconds = (atMs: number) => Math.max(0, Math.floor((now() - atMs) / 1000))
      return {
        total_entries: total,
        max_entries: options.maxItems,
        utilization: percent(total, options.maxItems),
        oldest_entry_age_seconds: range === undefined ? null : ageSeconds(range.oldestMs),
        newest_entry_age_seconds: range === undefined ? null : ageSeconds(range.newestMs),
        cache_file_path: store?.path ?? `(in memory: ${memoryOnlyReason})`,
      }
    },
    counters: () => ({ stores, evictions: memory.evictions, memoryBytes: memory.bytes }),
    close() {
      store?.close()
    },
  }
}
