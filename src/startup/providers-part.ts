import type { ServerOptions } from '../config/schema.ts'
import { createProviderPool, type ProviderPool } from '../providers/pool.ts'
import { createUpstreamBatching, type UpstreamBatching } from '../providers/upstream-batch.ts'
import { log } from '../util/log.ts'

type ProviderConfig = Pick<
  ServerOptions,
  | 'rpcUrls'
  | 'providers'
  | 'maxFailures'
  | 'healthCheckInterval'
  | 'upstreamTimeoutMs'
  | 'maxResponseBytes'
  | 'upstreamConcurrency'
  | 'upstreamQueue'
>

/** The providers, their breakers, the failover forwarder and the health checker (SPEC §6). */
export function createProvidersPart(options: ProviderConfig): ProviderPool {
  return createProviderPool({
    urls: options.rpcUrls,
    maxFailures: options.maxFailures,
    healthCheckIntervalMs: options.healthCheckInterval * 1000,
    upstreamTimeoutMs: options.upstreamTimeoutMs,
    maxResponseBytes: options.maxResponseBytes,
    slots: { concurrency: options.upstreamConcurrency, queue: options.upstreamQueue },
    budgets: budgetsOf(options.providers),
    warn: (message) => log.warn(message),
  })
}

/** The budgets `providers:` sets, by URL (SPEC §6); the others are learned from 429s. */
function budgetsOf(providers: ServerOptions['providers']): Map<string, { rps: number; burst?: number }> {
  const budgets = new Map<string, { rps: number; burst?: number }>()
  for (const { url, rps, burst } of providers ?? []) if (rps !== undefined) budgets.set(url, { rps, burst })
  return budgets
}

/** Upstream batching of a client batch's misses; none with `--upstream-batch-size 1`. */
export function createBatchingPart(
  options: Pick<ServerOptions, 'upstreamBatchSize' | 'upstreamBatchBytes' | 'maxResponseBytes'>,
): UpstreamBatching | undefined {
  if (options.upstreamBatchSize <= 1) return undefined
  return createUpstreamBatching({
    size: options.upstreamBatchSize,
    maxBytes: options.upstreamBatchBytes,
    maxResponseBytes: options.maxResponseBytes,
    onRefused: (provider, reason) =>
      log.warn(`${provider.label} refused a JSON-RPC batch (${reason}): its calls go one by one for 10 minutes`),
    onTooLarge: (provider, bytes, maxBytes) =>
      log.warn(
        `${provider.label} refused a JSON-RPC batch of ${bytes} bytes as too large: its batches stay within ${maxBytes} bytes for 10 minutes`,
      ),
  })
}
