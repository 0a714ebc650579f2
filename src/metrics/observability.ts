import type { Cache } from '../cache/cache.ts'
import { isHealthy, type Provider } from '../providers/provider.ts'
import type { Registry } from '../registry/registry.ts'
import type { CacheStatus, RpcErrorObject } from '../rpc/types.ts'
import { createCallMetrics } from './call-metrics.ts'
import { type ClientOutcome, createClientCalls } from './client-calls.ts'
import { createMetricsHistory } from './history.ts'
import { createPrometheus, type PrometheusSources } from './prometheus.ts'

export type ObservabilityOptions = {
  providers: readonly Provider[]
  cache: Cache
  registry: Registry
  /** The streams' figures (SPEC §12), read at scrape time. */
  streams?: PrometheusSources['streams']
  /** The shared tier's figures (SPEC §7), read at scrape time. */
  sharedCache?: PrometheusSources['sharedCache']
  /** The prefetch's figures (SPEC §14), while it is on. */
  prefetch?: PrometheusSources['prefetch']
  /** Verified state's figures (SPEC §15), while it is on. */
  verification?: PrometheusSources['verification']
  /** Distinct method names tracked before folding into `other` (SPEC §8). @default 256 */
  maxMethods?: number
  /** Count every call per client name and outcome (SPEC §13): only while clients are named by token. */
  perClient?: boolean
}

/** Everything that counts: call metrics, their history, and the Prometheus exporter, fed from one place. */
export function createObservability({
  providers,
  cache,
  registry,
  streams,
  sharedCache,
  prefetch,
  verification,
  maxMethods = 256,
  perClient = false,
}: ObservabilityOptions) {
  const calls = createCallMetrics({ maxMethods })
  /** Bounded like methods (SPEC §8); none without named clients, so the pipeline does not ask who calls. */
  const clientCalls = perClient ? createClientCalls(maxMethods) : undefined
  /** Calls refused by the rate limit, per client name (bounded like methods: the rest are "other"). */
  const rateLimited = new Map<string, number>()
  const prometheus = createPrometheus({
    calls,
    providers: () =>
      providers.map((provider) => ({
        label: provider.label,
        state: provider.quarantined ? 'quarantined' : provider.breaker.state,
        inFlight: provider.slots.inFlight,
        spent: provider.budget.spentLastSecond,
        budgetRps: provider.budget.rps,
        budgetWaits: provider.budget.waits.calls,
        budgetWaitMs: provider.budget.waits.totalMs,
        rateLimits: provider.budget.limitedCount,
        waiting: provider.slots.waiting,
        batches: provider.batches,
        batchedCalls: provider.batchedCalls,
        batchesRefused: Date.now() < provider.batchesRefusedUntilMs,
      })),
    cache: () => ({ entries: cache.ready ? cache.stats().total_entries : 0, ...cache.counters() }),
    instances: () => registry.size,
    streams,
    sharedCache,
    prefetch,
    verification,
    rateLimited: () => rateLimited,
    clients: clientCalls === undefined ? undefined : () => clientCalls.clients,
  })
  const history = createMetricsHistory({
    sample: () => {
      const timestamp = Math.floor(Date.now() / 1000)
      const latencies = providers.flatMap((provider) =>
        provider.latency.smoothedMs === null ? [] : [provider.latency.smoothedMs],
      )
      return {
        cache: {
          timestamp,
          cache_size: cache.ready ? cache.stats().total_entries : 0,
          hit_rate: calls.hitRatePercent(),
          requests_per_minute: calls.requestsPerMinute(),
        },
        providers: {
          timestamp,
          healthy_providers: providers.filter(isHealthy).length,
          total_providers: providers.length,
          avg_response_time_ms:
            latencies.length === 0 ? 0 : latencies.reduce((sum, ms) => sum + ms, 0) / latencies.length,
        },
      }
    },
  })
  return {
    calls,
    prometheus,
    history,
    observeCall(method: string, cache: CacheStatus | undefined, error: RpcErrorObject | undefined, durationMs: number) {
      calls.record(method, cache, error, durationMs)
      prometheus.observeCall(cache ?? 'BYPASS', durationMs / 1000)
    },
    /** A served call of a named client (undefined without named clients: nothing to ask or count). */
    observeClient:
      clientCalls === undefined
        ? undefined
        : (client: string, outcome: ClientOutcome) => clientCalls.record(client, outcome),
    onRateLimited(client: string) {
      const key = rateLimited.has(client) || rateLimited.size < maxMethods ? client : 'other'
      rateLimited.set(key, (rateLimited.get(key) ?? 0) + 1)
      clientCalls?.record(client, 'refused')
    },
    onAttempt(provider: Provider, outcome: string, durationMs: number) {
      if (outcome === 'rate-limited') calls.recordRateLimited()
      prometheus.observeAttempt(provider.label, outcome, durationMs / 1000)
    },
  }
}
