import type { Cache } from '../cache/cache.ts'
import type { RealtimeCache } from '../cache/realtime-ttl.ts'
import type { Chain } from '../chain/chain.ts'
import type { ServerOptions } from '../config/schema.ts'
import type { createObservability } from '../metrics/observability.ts'
import { createPipeline, type Pipeline } from '../pipeline/index.ts'
import { createInternalCalls, type InternalCalls } from '../pipeline/internal-calls.ts'
import type { LocalMethods } from '../pipeline/local-methods.ts'
import { createResolver, type Resolver } from '../pipeline/resolve.ts'
import { createBlockInterest } from '../prefetch/block-interest.ts'
import { createPrefetcher, type Prefetcher } from '../prefetch/prefetcher.ts'
import { withPrefetch } from '../prefetch/with-prefetch.ts'
import type { ProviderPool } from '../providers/pool.ts'
import { log } from '../util/log.ts'
import type { StateVerifier } from '../verify/state-verifier.ts'
import { createBatchingPart } from './providers-part.ts'
import { createRateLimitPart } from './rate-limit-part.ts'
import type { SharedTierPart } from './shared-tier-part.ts'

export type DataParts = {
  pool: ProviderPool
  cache: Cache
  chain: Chain
  cacheOpened: Promise<unknown>
  realtime: RealtimeCache | undefined
  sharedTier: SharedTierPart
  /** Verified state (SPEC §15); none with `--verify-state off`. */
  verifier?: StateVerifier
}

/**
 * The data path (SPEC §5, §14): the resolver (with the prefetch as its last tier and its observer,
 * unless `--prefetch off`), and the proxy's own calls over it and the pool.
 */
export function createDataPath(
  options: Pick<
    ServerOptions,
    'upstreamTimeoutMs' | 'prefetch' | 'upstreamBatchSize' | 'upstreamBatchBytes' | 'maxResponseBytes' | 'verifyState'
  >,
  parts: DataParts,
): { resolve: Resolver; internal: InternalCalls; prefetcher?: Prefetcher } {
  const { pool, cache, chain } = parts
  const prefetcher =
    options.prefetch === 'off'
      ? undefined
      : createPrefetcher({
          forward: pool.forward,
          openBatch: createBatchingPart(options)?.open,
          cache,
          view: () => chain.view,
          interest: createBlockInterest(),
          waitMs: options.upstreamTimeoutMs,
          verifier: parts.verifier,
        })
  const inner = createResolver({
    forward: pool.forward,
    cache,
    chain,
    cacheOpened: parts.cacheOpened,
    waitMs: options.upstreamTimeoutMs,
    realtime: parts.realtime,
    sharedTier: parts.sharedTier.current,
    tiers: prefetcher === undefined ? [] : [prefetcher.tier],
    verifier: parts.verifier,
  })
  const resolve = prefetcher === undefined ? inner : withPrefetch(inner, prefetcher)
  return { resolve, internal: createInternalCalls({ forward: pool.forward, resolve }), prefetcher }
}

type PipelineConfig = Pick<
  ServerOptions,
  | 'maxBatchSize'
  | 'upstreamBatchSize'
  | 'upstreamBatchBytes'
  | 'maxResponseBytes'
  | 'rateLimit'
  | 'rateBurst'
  | 'rateFreeHits'
  | 'rateCosts'
  | 'cacheUrl'
  | 'cachePrefix'
>

export type PipelineParts = {
  resolve: Resolver
  local: LocalMethods
  cache: Cache
  chain: Chain
  sharedTier: SharedTierPart
  observability: ReturnType<typeof createObservability>
}

/** The request path (SPEC §3-§5, §13) over the resolver: local methods, budgets, upstream batching, metrics. */
export function createPipelinePart(options: PipelineConfig, parts: PipelineParts): Pipeline {
  return createPipeline({
    resolve: parts.resolve,
    cache: parts.cache,
    chain: parts.chain,
    local: parts.local,
    maxBatchSize: options.maxBatchSize,
    observeCall: parts.observability.observeCall,
    observeClient: parts.observability.observeClient,
    onUnexpected: logUnexpected,
    openUpstreamBatch: createBatchingPart(options)?.open,
    rateLimit: createRateLimitPart(options, parts.sharedTier, parts.observability.onRateLimited),
  })
}

/** An unexpected exception while serving: logged with its details; the client sees -32603 with fixed text. */
export function logUnexpected(error: unknown): void {
  log.error('unexpected error while serving a request:', error)
}
