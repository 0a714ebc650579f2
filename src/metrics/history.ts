import { type Every, every } from '../util/every.ts'

/** One point of `edb_metrics_history.cache_history`. */
export type CachePoint = { timestamp: number; cache_size: number; hit_rate: number; requests_per_minute: number }
/** One point of `edb_metrics_history.provider_history`. */
export type ProviderPoint = {
  timestamp: number
  healthy_providers: number
  total_providers: number
  avg_response_time_ms: number
}

export type MetricsHistoryOptions = {
  /** Take one sample of each series (timestamps in unix seconds). */
  sample: () => { cache: CachePoint; providers: ProviderPoint }
  /** @default 30_000 */
  intervalMs?: number
  /** Points kept per series; older ones go first. @default 1_000 */
  maxPoints?: number
}

/** `edb_metrics_history`: a sample at start, then one every 30 s, bounded retention (SPEC §4). */
export function createMetricsHistory({ sample, intervalMs = 30_000, maxPoints = 1_000 }: MetricsHistoryOptions) {
  const cacheHistory: CachePoint[] = []
  const providerHistory: ProviderPoint[] = []
  let timer: Every | undefined
  const take = () => {
    const point = sample()
    cacheHistory.push(point.cache)
    providerHistory.push(point.providers)
    if (cacheHistory.length > maxPoints) cacheHistory.shift()
    if (providerHistory.length > maxPoints) providerHistory.shift()
  }
  return {
    start() {
      if (timer !== undefined) return
      take()
      timer = every(intervalMs, take)
    },
    stop() {
      timer?.stop()
      timer = undefined
    },
    take,
    snapshot: () => ({ cache_history: [...cacheHistory], provider_history: [...providerHistory] }),
  }
}

export type MetricsHistory = ReturnType<typeof createMetricsHistory>
