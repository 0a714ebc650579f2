import type { Registry } from 'prom-client'
import type { SharedTierStatus } from '../cache/shared-tier.ts'
import type { CacheStatus } from '../rpc/types.ts'
import { createBucketHistogram } from './bucket-histogram.ts'
import type { CallMetrics } from './call-metrics.ts'
import type { ClientCounts } from './client-calls.ts'
import type { SocketCounters } from './socket-counters.ts'
import type { StreamStats } from './stream-stats.ts'

/** What the exporter reads at scrape time (nothing on the request path but two histogram observations). */
export type PrometheusSources = {
  calls: CallMetrics
  providers: () => {
    label: string
    state: 'closed' | 'open' | 'half-open' | 'quarantined'
    inFlight: number
    /** Calls sent in the last second, the proxy's own included (SPEC §6: spend). */
    spent: number
    /** Its budget: calls a second (configured or learned; undefined: none), calls that waited and for how long, 429s. */
    budgetRps: number | undefined
    budgetWaits: number
    budgetWaitMs: number
    rateLimits: number
    waiting: number
    batches: number
    batchedCalls: number
    batchesRefused: boolean
  }[]
  cache: () => { entries: number; memoryBytes: number; stores: number; evictions: number }
  instances: () => number
  /** The shared tier's figures, while there is one (SPEC §7). */
  sharedCache?: () => SharedTierStatus | undefined
  /** The prefetch's figures, while it is on (SPEC §14). */
  prefetch?: () => { prefetches: Readonly<Record<string, number>>; keys_stored: number; keys_used: number }
  /** State answers by method and how their proof went, while verification is on (SPEC §15). */
  verification?: () => Readonly<Record<string, Readonly<Record<string, number>>>>
  /** Calls refused by the rate limit, per client (SPEC §13). */
  rateLimited?: () => ReadonlyMap<string, number>
  /** Calls per client name and outcome, while clients are named by token (SPEC §13). */
  clients?: () => ReadonlyMap<string, Readonly<ClientCounts>>
  /** The streams (SPEC §12): hub figures and the WebSocket transport's counters. */
  streams?: () => { stats: StreamStats; sockets: SocketCounters }
}

const CACHE_LABEL: Record<CacheStatus, string> = { HIT: 'hit', 'HIT-TTL': 'hit_ttl', MISS: 'miss', BYPASS: 'bypass' }
const CLIENT_OUTCOMES = ['hit', 'upstream', 'refused'] as const
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
async function buildRegistry(
  sources: PrometheusSources,
  attempts: Map<string, number>,
  histograms: unknown[],
): Promise<Registry> {
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
  const counterFrom = <L extends string>(
    name: string,
    help: string,
    labelNames: L[],
    read: () => [Record<L, string>, number][],
  ) =>
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

  counterFrom(
    'edb_proxy_calls_total',
    'Client data calls by method and whether the cache answered',
    ['method', 'cache'],
    () =>
      [...sources.calls.methods].flatMap(([method, stats]) => [
        [{ method, cache: 'hit' }, stats.hits],
        [{ method, cache: 'miss' }, stats.misses],
      ]),
  )
  counterFrom(
    'edb_proxy_call_errors_total',
    'Client data calls answered with a JSON-RPC error, by method',
    ['method'],
    () => [...sources.calls.methods].map(([method, stats]) => [{ method }, stats.errors]),
  )
  counterFrom(
    'edb_proxy_errors_total',
    'Errors by class: user (every node agrees), rate_limit (upstream attempts)',
    ['class'],
    () => [
      [{ class: 'user' }, sources.calls.totals.userErrors],
      [{ class: 'rate_limit' }, sources.calls.totals.rateLimitErrors],
    ],
  )
  counterFrom('edb_proxy_cache_stores_total', 'Answers written to the cache', [], () => [[{}, sources.cache().stores]])
  counterFrom('edb_proxy_cache_evictions_total', 'Entries evicted from the memory cache', [], () => [
    [{}, sources.cache().evictions],
  ])
  counterFrom(
    'edb_proxy_upstream_attempts_total',
    'Upstream attempts by provider (redacted) and outcome',
    ['provider', 'outcome'],
    () =>
      [...attempts].map(([key, value]) => {
        const [provider, outcome] = key.split('\u0000') as [string, string]
        return [{ provider, outcome }, value]
      }),
  )
  gauge(
    'edb_proxy_cache_entries',
    'Entries in the whole cache (disk store, or memory for development chains)',
    () => sources.cache().entries,
  )
  gauge(
    'edb_proxy_cache_memory_bytes',
    'Accounted bytes of the in-memory hot subset',
    () => sources.cache().memoryBytes,
  )
  gauge('edb_proxy_active_requests', 'HTTP requests being answered now', () => sources.calls.totals.active)
  gauge('edb_proxy_requests_per_minute', 'Client data calls in the last 60 seconds', () =>
    sources.calls.requestsPerMinute(),
  )
  gauge('edb_proxy_registered_instances', 'Registered debugger instances', () => sources.instances())
  const providerGauge = (
    name: string,
    help: string,
    value: (provider: ReturnType<PrometheusSources['providers']>[number]) => number,
  ) =>
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
  /** A counter per provider, read at scrape time like the gauges. */
  const providerCounter = (
    name: string,
    help: string,
    value: (provider: ReturnType<PrometheusSources['providers']>[number]) => number,
  ) =>
    counterFrom(name, help, ['provider'], () =>
      sources.providers().map((provider) => [{ provider: provider.label }, value(provider)]),
    )
  providerGauge(
    'edb_proxy_provider_circuit_state',
    'Circuit of each provider: 0 closed, 1 half-open, 2 open, 3 quarantined',
    (provider) => CIRCUIT[provider.state],
  )
  providerGauge(
    'edb_proxy_provider_spend_last_second',
    "Calls sent to each provider over the last second, the proxy's own included (its budget's spend)",
    (provider) => provider.spent,
  )
  providerGauge(
    'edb_proxy_upstream_in_flight',
    'Client attempts in flight to each provider (at most --upstream-concurrency)',
    (provider) => provider.inFlight,
  )
  providerGauge(
    'edb_proxy_upstream_waiting',
    'Calls waiting for a slot of each provider (at most --upstream-queue)',
    (provider) => provider.waiting,
  )
  providerGauge(
    'edb_proxy_upstream_batches_refused',
    'Whether a provider refused a JSON-RPC batch lately (1: its calls go one by one for 10 minutes)',
    (provider) => (provider.batchesRefused ? 1 : 0),
  )
  providerGauge(
    'edb_proxy_provider_budget_rps',
    'Calls a second each provider is allowed (configured, or learned from its 429s); -1: no limit known',
    (provider) => provider.budgetRps ?? -1,
  )
  providerCounter(
    'edb_proxy_provider_budget_waits_total',
    "Calls that waited for room in each provider's budget before they were sent",
    (provider) => provider.budgetWaits,
  )
  providerCounter(
    'edb_proxy_provider_budget_wait_seconds_total',
    "Time those calls waited for room in each provider's budget, in seconds",
    (provider) => provider.budgetWaitMs / 1000,
  )
  providerCounter(
    'edb_proxy_provider_rate_limits_total',
    'Rate-limit answers (HTTP 429, or a rate-limit JSON-RPC error) from each provider; never a strike',
    (provider) => provider.rateLimits,
  )
  providerCounter(
    'edb_proxy_upstream_batches_total',
    'JSON-RPC batches posted to each provider (misses of client batches)',
    (provider) => provider.batches,
  )
  providerCounter(
    'edb_proxy_upstream_batched_calls_total',
    'Calls carried in those batches, per provider',
    (provider) => provider.batchedCalls,
  )
  const sharedCache = sources.sharedCache
  if (sharedCache !== undefined) {
    gauge('edb_proxy_shared_cache_up', 'The shared (Redis) tier is in use: 1 up, 0 down (or none yet)', () =>
      sharedCache()?.state === 'up' ? 1 : 0,
    )
    for (const [name, field] of [
      ['hits', 'hits'],
      ['misses', 'misses'],
      ['writes', 'writes'],
      ['errors', 'errors'],
      ['dropped', 'dropped'],
    ] as const) {
      counterFrom(`edb_proxy_shared_cache_${name}_total`, `Shared tier ${name}`, [], () => [
        [{}, sharedCache()?.[field] ?? 0],
      ])
    }
  }
  const verification = sources.verification
  if (verification !== undefined) {
    counterFrom(
      'edb_proxy_state_verifications_total',
      'State answers by method and outcome: verified (proven), unverifiable (no proof to be had), failed (SPEC §15)',
      ['method', 'outcome'],
      () =>
        Object.entries(verification()).flatMap(([method, outcomes]) =>
          Object.entries(outcomes).map(([outcome, count]) => [{ method, outcome }, count] as const),
        ),
    )
  }
  const prefetch = sources.prefetch
  if (prefetch !== undefined) {
    counterFrom('edb_proxy_prefetches_total', 'Block prefetches by source and outcome (SPEC §14)', ['outcome'], () =>
      Object.entries(prefetch().prefetches).map(([outcome, count]) => [{ outcome }, count]),
    )
    counterFrom('edb_proxy_prefetch_keys_stored_total', 'Cache entries a prefetch stored', [], () => [
      [{}, prefetch().keys_stored],
    ])
    counterFrom('edb_proxy_prefetch_keys_used_total', 'Prefetched entries a client later asked for', [], () => [
      [{}, prefetch().keys_used],
    ])
  }
  const rateLimited = sources.rateLimited
  if (rateLimited !== undefined) {
    counterFrom(
      'edb_proxy_rate_limited_total',
      'Calls refused by the rate limit, by client (token name or ip:address)',
      ['client'],
      () => [...rateLimited()].map(([client, count]) => [{ client }, count]),
    )
  }
  const clients = sources.clients
  if (clients !== undefined) {
    counterFrom(
      'edb_proxy_client_calls_total',
      'Calls by client (token name) and outcome: hit, upstream, refused (rate limit)',
      ['client', 'outcome'],
      () =>
        [...clients()].flatMap(([client, counts]) =>
          CLIENT_OUTCOMES.map((outcome): [Record<'client' | 'outcome', string>, number] => [
            { client, outcome },
            counts[outcome],
          ]),
        ),
    )
  }
  const streams = sources.streams
  if (streams !== undefined) {
    gauge('edb_proxy_ws_connections', 'WebSocket connections open now', () => streams().sockets.connections)
    counterFrom('edb_proxy_ws_upgrades_total', 'WebSocket upgrades by outcome', ['outcome'], () => [
      [{ outcome: 'accepted' }, streams().sockets.accepted],
      [{ outcome: 'refused' }, streams().sockets.refused],
    ])
    counterFrom(
      'edb_proxy_ws_slow_disconnects_total',
      'WebSocket clients closed (1008) for reading too slowly',
      [],
      () => [[{}, streams().sockets.slowClosed]],
    )
    counterFrom(
      'edb_proxy_ws_frames_refused_total',
      'WebSocket frames over the size limit (closed with 1009)',
      [],
      () => [[{}, streams().sockets.framesRefused]],
    )
    new Gauge({
      name: 'edb_proxy_subscriptions',
      help: 'Subscriptions (and filters) by kind',
      labelNames: ['kind'],
      registers,
      collect() {
        this.reset()
        for (const [kind, count] of Object.entries(streams().stats.subscriptions)) this.set({ kind }, count)
      },
    })
    gauge(
      'edb_proxy_stream_feeds',
      'Distinct feeds (kind and filter) with at least one subscriber',
      () => streams().stats.feeds.length,
    )
    new Gauge({
      name: 'edb_proxy_stream_sources_up',
      help: 'Upstream sockets up per feed kind (0 while polling over HTTP)',
      labelNames: ['kind', 'provider'],
      registers,
      collect() {
        this.reset()
        for (const source of streams().stats.sources)
          for (const socket of source.sockets)
            this.set({ kind: source.kind, provider: socket.label }, socket.up ? 1 : 0)
      },
    })
    const counter = (name: string, help: string, read: (stats: StreamStats) => number) =>
      counterFrom(name, help, [], () => [[{}, read(streams().stats)]])
    counter(
      'edb_proxy_stream_events_total',
      'Subscription events delivered to clients',
      (stats) => stats.counters.eventsDelivered,
    )
    counter(
      'edb_proxy_stream_duplicates_dropped_total',
      'Events dropped as already delivered (two feeds, repeats)',
      (stats) => stats.counters.duplicatesDropped,
    )
    counter(
      'edb_proxy_stream_gaps_filled_total',
      'Gaps in the heads filled over HTTP',
      (stats) => stats.counters.gapsFilled,
    )
    counter(
      'edb_proxy_stream_blocks_filled_total',
      'Blocks fetched over HTTP to fill gaps',
      (stats) => stats.counters.blocksFilled,
    )
    counter('edb_proxy_stream_reorgs_total', 'Reorgs seen in the canonical chain', (stats) => stats.counters.reorgs)
    counter(
      'edb_proxy_stream_restarts_total',
      'Gaps or reorgs too deep to repair (delivery restarted at the head)',
      (stats) => stats.counters.restarts,
    )
  }
  for (const metric of histograms) registry.registerMetric(metric as never)
  return registry
}

export type Prometheus = ReturnType<typeof createPrometheus>
