import { classifyRpcError } from '../providers/classify.ts'
import type { CacheStatus, RpcErrorObject } from '../rpc/types.ts'
import { percent } from '../util/percent.ts'

/** Per-method counters, as `edb_cache_metrics.method_stats` reports them. */
export type MethodStats = {
  hits: number
  misses: number
  total_requests: number
  total_response_time_ms: number
  errors: number
}

export type CallMetricsOptions = {
  /** Distinct method names tracked; the rest fold into `other` (client input never grows memory). */
  maxMethods: number
  now?: () => number
}

const OTHER = 'other'
const WINDOW_S = 60
const RECENT_METHODS = 10

/**
 * Counters of client data calls (management methods excluded). Definitions, also in the README:
 * a call is a HIT when answered from the cache, otherwise a miss (fetched upstream, cacheable or
 * not), so hits + misses = total; an error is a call answered with a JSON-RPC error; a user error
 * is one every node would give (invalid params, revert, ...); a rate-limit error is an upstream
 * attempt refused for rate limiting; requests per minute counts calls in the last 60 seconds.
 */
export function createCallMetrics({ maxMethods, now = Date.now }: CallMetricsOptions) {
  const methods = new Map<string, MethodStats>()
  const recent: string[] = []
  const buckets = new Array<number>(WINDOW_S).fill(0)
  let bucketSecond = Math.floor(now() / 1000)
  const totals = { requests: 0, hits: 0, misses: 0, errors: 0, userErrors: 0, rateLimitErrors: 0 }
  let active = 0
  let served = 0
  let peakActive = 0
  let peakPerMinute = 0

  const statsFor = (method: string): MethodStats => {
    const known = methods.get(method)
    if (known !== undefined) return known
    const name = methods.size < maxMethods ? method : OTHER
    let stats = methods.get(name)
    if (stats === undefined) {
      stats = { hits: 0, misses: 0, total_requests: 0, total_response_time_ms: 0, errors: 0 }
      methods.set(name, stats)
    }
    return stats
  }

  /** Move the per-second window to now, zeroing the seconds that passed. */
  const advance = () => {
    const second = Math.floor(now() / 1000)
    const steps = Math.min(second - bucketSecond, WINDOW_S)
    for (let step = 1; step <= steps; step++) buckets[(bucketSecond + step) % WINDOW_S] = 0
    if (steps > 0) bucketSecond = second
  }
  /** Requests per minute now, remembering the peak (sampled on every read and every call). */
  const requestsPerMinute = () => {
    advance()
    const value = buckets.reduce((sum, n) => sum + n, 0)
    if (value > peakPerMinute) peakPerMinute = value
    return value
  }

  return {
    /** One data call answered. */
    record(
      method: string,
      cache: CacheStatus | undefined,
      error: RpcErrorObject | undefined,
      durationMs: number,
    ): void {
      const stats = statsFor(method)
      stats.total_requests += 1
      stats.total_response_time_ms += durationMs
      totals.requests += 1
      if (cache === 'HIT' || cache === 'HIT-TTL') {
        stats.hits += 1
        totals.hits += 1
      } else {
        stats.misses += 1
        totals.misses += 1
      }
      if (error !== undefined) {
        stats.errors += 1
        totals.errors += 1
        if (classifyRpcError(error) === 'answer') totals.userErrors += 1
      }
      advance()
      buckets[bucketSecond % WINDOW_S] = (buckets[bucketSecond % WINDOW_S] ?? 0) + 1
      if (recent[recent.length - 1] !== method && methods.has(method)) {
        const at = recent.indexOf(method)
        if (at !== -1) recent.splice(at, 1)
        recent.push(method)
        if (recent.length > RECENT_METHODS) recent.shift()
      }
    },
    /** An upstream attempt refused for rate limiting. */
    recordRateLimited(): void {
      totals.rateLimitErrors += 1
    },
    /** An HTTP request began. */
    begin(): void {
      served += 1
      active += 1
      if (active > peakActive) peakActive = active
    },
    /** An HTTP request ended. */
    end(): void {
      active -= 1
    },
    requestsPerMinute,
    /** `edb_cache_metrics` (SPEC §4). */
    cacheMetrics() {
      const methodStats: Record<string, MethodStats & { avg_response_time_ms: number }> = {}
      for (const [name, stats] of methods) {
        methodStats[name] = {
          ...stats,
          total_response_time_ms: Math.round(stats.total_response_time_ms),
          avg_response_time_ms: stats.total_requests === 0 ? 0 : stats.total_response_time_ms / stats.total_requests,
        }
      }
      return {
        total_requests: totals.requests,
        cache_hits: totals.hits,
        cache_misses: totals.misses,
        hit_rate: percent(totals.hits, totals.requests),
        error_rate: percent(totals.errors, totals.requests),
        method_stats: methodStats,
        total_errors: totals.errors,
        rate_limit_errors: totals.rateLimitErrors,
        user_errors: totals.userErrors,
      }
    },
    /** `edb_request_metrics` (SPEC §4). */
    requestMetrics() {
      const perMinuteNow = requestsPerMinute()
      return {
        requests_per_minute: perMinuteNow,
        active_requests: active,
        recent_methods: [...recent].reverse(),
        error_rate: percent(totals.errors, totals.requests),
        peak_requests_per_minute: Math.max(peakPerMinute, perMinuteNow),
      }
    },
    /** Hit rate as a number from 0 to 100 (for the history). */
    hitRatePercent(): number {
      return totals.requests === 0 ? 0 : (totals.hits / totals.requests) * 100
    },
    /** HTTP requests begun so far. */
    get served() {
      return served
    },
    get totals() {
      return { ...totals, active, peakActive }
    },
    get methods(): ReadonlyMap<string, MethodStats> {
      return methods
    },
  }
}

export type CallMetrics = ReturnType<typeof createCallMetrics>
