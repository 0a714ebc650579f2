import type { Registry } from 'prom-client'
import type { CacheStatus } from '../rpc/types.ts'
import { createBucketHistogram } from './bucket-histogram.ts'
import type { CallMetrics } from './call-metrics.ts'

/** What the exporter reads at scrape time (nothing on the request path but two histogram observations). */
export type PrometheusSources = {
  calls: CallMetrics
  providers: () => { label: string; state: 'closed' | 'open' | 'half-open' | 'quarantined'; inFlight: number; waiting: number }[]
  cache: () => { entries: number; memoryBytes: number; stores: number; evictions: number }
  instances: () => number
}

const CACHE_LABEL: Record<CacheStatus, string> = { HIT: 'hit', MISS: 'miss', BYPASS: 'bypass' }
const CIRCUIT = { closed: 0, 'half-open': 1, open: 2, quarantined: 3 } as const
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

/** What Prometheus expects of the scrape's Content-Type (prom-client's `Registry.contentType`). */
const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'

/**
 * `GET /metrics` in the Prometheus text format, through prom-client (SPEC §9). prom-client and its
 * registry are loaded at the first scrape: it pulls in http, https, zlib and util, which would cost
 * tens of milliseconds at every start (SPEC §10: the binary answers within 150 ms of spawn).
 */
export function createPrometheus(sources: PrometheusSources) {
  const attempts = new Map<string, number>()
  const callSeconds = createBucketHistogram(
    'edb_proxy_call_duration_seconds',
    'Time to answer one client data call, by cache outcome',
    'cache',
    LATENCY_BUCKETS,
  )
  const attemptSeconds = createBucketHistogram(
    'edb_proxy_upstream_attempt_duration_seconds',
    'Time of one upstream attempt, by provider (redacted)',
    'provider',
    LATENCY_BUCKETS,
  )
  const histograms = [callSeconds.metric, attemptSeconds.metric]
  let registry: Promise<Registry> | undefined

  return {
    contentType: CONTENT_TYPE,
    text: async () => {
      registry ??= buildRegistry(sources, attempts, histograms)
      return (await registry).metrics()
    },
    observeCall(cache: CacheStatus, seconds: number) {
      callSeconds.observe(CACHE_LABEL[cache], seconds)
    },
    observeAttempt(provider: string, outcome: string, seconds: number) {
      const key = `${provider}\u0000${outcome}`
      attempts.set(key, (attempts.get(key) ?? 0) + 1)
      attemptSeconds.observe(provider, seconds)
    },
  }
}

/** The registry: every figure is read from `sources` at scrape time. */
async function buildRegistry(sources: PrometheusSources, attempts: Map<string, number>, histograms: unknown[]): Promise<Registry> {
  const { Counter, Gauge, Registry } = await import('prom-client')
  const registry = new Registry()
  const registers = [registry]

  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      registers,
      collect() {
        this.set(read())
      },
    })
  const counterFrom = <L extends string>(name: string, help: string, labelNames: L[], read: () => [Record<L, string>, number][]) =>
    new Counter({
      name,
      help,
      labelNames,
      registers,
      collect() {
        this.reset()
        for (const [labels, value] of read()) this.inc(labels, value)
      },
    })

  counterFrom('edb_proxy_calls_total', 'Client data calls by method and whether the cache answered', ['method', 'cache'], () =>
    [...sources.calls.methods].flatMap(([method, stats]) => [
      [{ method, cache: 'hit' }, stats.hits],
      [{ method, cache: 'miss' }, stats.misses],
    ]),
  )
  counterFrom('edb_proxy_call_errors_total', 'Client data calls answered with a JSON-RPC error, by method', ['method'], () =>
    [...sources.calls.methods].map(([method, stats]) => [{ method }, stats.errors]),
  )
  counterFrom('edb_proxy_errors_total', 'Errors by class: user (every node agrees), rate_limit (upstream attempts)', ['class'], () => [
    [{ class: 'user' }, sources.calls.totals.userErrors],
    [{ class: 'rate_limit' }, sources.calls.totals.rateLimitErrors],
  ])
  counterFrom('edb_proxy_cache_stores_total', 'Answers written to the cache', [], () => [[{}, sources.cache().stores]])
  counterFrom('edb_proxy_cache_evictions_total', 'Entries evicted from the memory cache', [], () => [[{}, sources.cache().evictions]])
  counterFrom('edb_proxy_upstream_attempts_total', 'Upstream attempts by provider (redacted) and outcome', ['provider', 'outcome'], () =>
    [...attempts].map(([key, value]) => {
      const [provider, outcome] = key.split('\u0000') as [string, string]
      return [{ provider, outcome }, value]
    }),
  )
  gauge('edb_proxy_cache_entries', 'Entries in the whole cache (disk store, or memory for development chains)', () => sources.cache().entries)
  gauge('edb_proxy_cache_memory_bytes', 'Accounted bytes of the in-memory hot subset', () => sources.cache().memoryBytes)
  gauge('edb_proxy_active_requests', 'HTTP requests being answered now', () => sources.calls.totals.active)
  gauge('edb_proxy_requests_per_minute', 'Client data calls in the last 60 seconds', () => sources.calls.requestsPerMinute())
  gauge('edb_proxy_registered_instances', 'Registered debugger instances', () => sources.instances())
  const providerGauge = (name: string, help: string, value: (provider: ReturnType<PrometheusSources['providers']>[number]) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['provider'],
      registers,
      collect() {
        this.reset()
        for (const provider of sources.providers()) this.set({ provider: provider.label }, value(provider))
      },
    })
  providerGauge(
    'edb_proxy_provider_circuit_state',
    'Circuit of each provider: 0 closed, 1 half-open, 2 open, 3 quarantined',
    (provider) => CIRCUIT[provider.state],
  )
  providerGauge('edb_proxy_upstream_in_flight', 'Client attempts in flight to each provider (at most --upstream-concurrency)', (provider) => provider.inFlight)
  providerGauge('edb_proxy_upstream_waiting', 'Calls waiting for a slot of each provider (at most --upstream-queue)', (provider) => provider.waiting)
  for (const metric of histograms) registry.registerMetric(metric as never)
  return registry
}

export type Prometheus = ReturnType<typeof createPrometheus>
