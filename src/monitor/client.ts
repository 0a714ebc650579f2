import { sanitizeDeep, sanitizeText } from './sanitize.ts'

/** Everything the dashboard shows, as the proxy's `edb_*` methods answer it (this proxy or the Rust one). */
export type Snapshot = {
  info?: any
  cacheStats?: any
  cacheMetrics?: any
  providers?: any
  providerMetrics?: any
  instances?: any
  history?: any
  requests?: any
  streams?: any
  fetchedAtMs: number
}

const METHODS = {
  info: 'edb_info',
  cacheStats: 'edb_cache_stats',
  cacheMetrics: 'edb_cache_metrics',
  providers: 'edb_providers',
  providerMetrics: 'edb_provider_metrics',
  instances: 'edb_active_instances',
  history: 'edb_metrics_history',
  requests: 'edb_request_metrics',
  streams: 'edb_streams',
} as const

/**
 * One management call as the reference's monitor sends it (`id: 1`, no params); rejects on errors.
 * Whatever comes back, results and error messages alike, is made safe to draw first.
 */
export async function callProxy(url: string, method: string, timeoutMs: number, params?: unknown[]): Promise<any> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(
      params === undefined ? { jsonrpc: '2.0', method, id: 1 } : { jsonrpc: '2.0', method, params, id: 1 },
    ),
    signal: AbortSignal.timeout(timeoutMs),
  })
  if (!response.ok) throw new Error(`HTTP ${response.status}`)
  const body = (await response.json()) as { result?: unknown; error?: { message?: unknown } }
  if (body.error !== undefined)
    throw new Error(typeof body.error.message === 'string' ? sanitizeText(body.error.message) : 'JSON-RPC error')
  return sanitizeDeep(body.result)
}

/** Fetch every panel's data in parallel; a method the proxy lacks leaves its panel empty; rejects when none answers. */
export async function fetchSnapshot(url: string, timeoutMs: number): Promise<Snapshot> {
  const failures: Error[] = []
  const entries = await Promise.all(
    Object.entries(METHODS).map(
      async ([key, method]) =>
        [
          key,
          await callProxy(url, method, timeoutMs).catch((error: Error) => {
            failures.push(error)
            return undefined
          }),
        ] as const,
    ),
  )
  if (failures.length === entries.length) throw failures[0] as Error
  const snapshot = Object.fromEntries(entries) as Snapshot
  snapshot.fetchedAtMs = Date.now()
  return snapshot
}
