import { isHealthy, type Provider } from './providers/provider.ts'

/** The small status `GET /health` answers. */
export type HealthReport = {
  status: 'ok' | 'unavailable'
  mode: 'upstream' | 'cache-only'
  chain_id: number | null
  healthy_providers: number
  total_providers: number
  uptime_seconds: number
  /** With `--cache-url` on a real chain: whether the shared tier is in use (an outage never makes the proxy unavailable). */
  shared_cache?: 'up' | 'down'
}

export type HealthOptions = {
  providers: readonly Provider[]
  chainId: () => number | undefined
  startedAtMs: number
  sharedCache?: () => 'up' | 'down' | undefined
  now?: () => number
}

/** SPEC §3: the proxy can serve when a provider is healthy, or in cache-only mode. */
export function createHealthReporter(options: HealthOptions): () => HealthReport {
  const now = options.now ?? Date.now
  return () => {
    const healthy = options.providers.filter(isHealthy).length
    const cacheOnly = options.providers.length === 0
    const shared = options.sharedCache?.()
    return {
      ...(shared === undefined ? {} : { shared_cache: shared }),
      status: cacheOnly || healthy > 0 ? 'ok' : 'unavailable',
      mode: cacheOnly ? 'cache-only' : 'upstream',
      chain_id: options.chainId() ?? null,
      healthy_providers: healthy,
      total_providers: options.providers.length,
      uptime_seconds: Math.floor((now() - options.startedAtMs) / 1000),
    }
  }
}
