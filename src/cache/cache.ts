import { percent } from '../util/percent.ts'
import type { Finality } from './finality.ts'
import { MemoryCache } from './memory.ts'
import { planCall, verdictFor, type CachePlan } from './policy.ts'
import { referenceKey } from './reference-key.ts'
import type { DiskStore } from './store.ts'

export type CacheOptions = {
  /** SPEC §5.3: bound of the whole cache (0 disables caching). */
  maxItems: number
  /** Bound of the hot subset held in memory. */
  maxMemoryBytes: number
  finality: Finality
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

/** Learns the block of a transaction (through the pipeline, so that lookup is cached too). */
export type TxBlockLookup = (hash: string) => Promise<number | undefined>

/** The cache: memory first, then the disk store, then entries imported from the reference. */
export type Cache = {
  /** Whether calls may be looked up and stored now (caching on and the chain known). */
  readonly ready: boolean
  /** Memory, then disk; the result as raw JSON text. */
  lookup(plan: CachePlan): string | undefined
  /** The result held in memory under `key` (marked as used), for remembered replies. */
  peek(key: string): string | undefined
  /** On a miss: an entry imported from the reference cache, once its block is known final. */
  lookupImported(plan: CachePlan, params: unknown): Promise<string | undefined> | undefined
  /** Store an answer if and when it can never change; `epoch` is the one read before forwarding. Returns the pending decision when it waits on finality. */
  offer(plan: CachePlan, resultJson: string, epoch: number): Promise<unknown> | undefined
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
  /** Resolves once every store waiting on finality (or on a transaction's block) has been decided. */
  settled(): Promise<void>
  /** Write everything pending to disk. */
  close(): void
}

const TOUCH_EVERY_MS = 60_000

/** Compose memory, disk and finality into the cache the pipeline consults. */
export function createCache(options: CacheOptions, txBlock: TxBlockLookup): Cache {
  const now = options.now ?? Date.now
  const memory = new MemoryCache({ maxItems: options.maxItems, maxBytes: options.maxMemoryBytes })
  let store: DiskStore | undefined
  let attached = false
  let memoryOnlyReason = 'caching disabled (--max-cache-items 0)'
  let epoch = 0
  let stores = 0
  const deciding = new Set<Promise<unknown>>()
  const track = (decision: Promise<unknown>): Promise<unknown> => {
    deciding.add(decision)
    void decision.finally(() => deciding.delete(decision))
    return decision
  }

  const remember = (plan: CachePlan, resultJson: string) => {
    stores += 1
    memory.set(plan.key, resultJson, now())
    store?.put(plan.key, plan.method, resultJson)
  }

  /** Store once `block` is known final; returns the pending decision when finality must be asked first. */
  const storeWhenFinal = (plan: CachePlan, resultJson: string, startEpoch: number, block: number): Promise<unknown> | undefined => {
    const final = options.finality.isFinal(block)
    if (final === true) return void remember(plan, resultJson)
    if (final === false) return undefined
    return track(final.then((ok) => ok && epoch === startEpoch && remember(plan, resultJson)))
  }

  const fromImported = async (plan: CachePlan, params: unknown): Promise<string | undefined> => {
    const row = store?.getImported(referenceKey(plan.method, params))
    if (row === undefined) return undefined
    // The reference cached some answers that could still change: serve only what §5 allows.
    const verdict = verdictFor(plan, row.resultJson)
    const usable = verdict.kind === 'store' || (verdict.kind === 'when-final' && (await options.finality.isFinal(verdict.block)))
    if (!usable) return undefined
    remember(plan, row.resultJson)
    return row.resultJson
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
        memory.set(plan.key, fromDisk, now())
        store?.touch(plan.key)
        return fromDisk
      }
      return undefined
    },
    peek(key) {
      return memory.get(key, now())?.resultJson
    },
    lookupImported(plan, params) {
      return store?.hasImported ? fromImported(plan, params) : undefined
    },
    offer(plan, resultJson, startEpoch) {
      if (!attached || startEpoch !== epoch) return undefined
      const verdict = verdictFor(plan, resultJson)
      if (verdict.kind === 'store') return void remember(plan, resultJson)
      if (verdict.kind === 'when-final') return storeWhenFinal(plan, resultJson, startEpoch, verdict.block)
      if (verdict.kind === 'when-tx-final') {
        return track(
          txBlock(verdict.hash).then((block) =>
            block !== undefined && epoch === startEpoch ? storeWhenFinal(plan, resultJson, startEpoch, block) : undefined,
          ),
        )
      }
      return undefined
    },
    invalidate() {
      epoch++
      memory.clear()
      store?.clear()
      options.finality.reset()
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
    async settled() {
      while (deciding.size > 0) await Promise.allSettled([...deciding])
    },
    close() {
      store?.close()
    },
  }
}
