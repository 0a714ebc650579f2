import type { ServerOptions } from '../config/schema.ts'
import { createSharedBuckets } from '../limits/shared-buckets.ts'
import { createTokenBuckets } from '../limits/token-buckets.ts'
import type { RateLimit } from '../pipeline/call.ts'
import type { SharedTierPart } from './shared-tier-part.ts'

type RateLimitOptions = Pick<
  ServerOptions,
  'rateLimit' | 'rateBurst' | 'rateFreeHits' | 'rateCosts' | 'cacheUrl' | 'cachePrefix'
>

/**
 * Per-client budgets (SPEC §13), or none with `--rate-limit 0`: in Redis when there is a shared
 * tier (one budget for a team's proxies), local while it is down.
 */
export function createRateLimitPart(
  options: RateLimitOptions,
  sharedTier: SharedTierPart,
  onRefused: (client: string) => void,
): RateLimit | undefined {
  if (options.rateLimit === 0) return undefined
  const ratePerS = options.rateLimit
  const burst = options.rateBurst || options.rateLimit * 2
  const local = createTokenBuckets({ ratePerS, burst })
  const buckets =
    options.cacheUrl === undefined
      ? local
      : createSharedBuckets({ store: sharedTier.current, local, ratePerS, burst, prefix: options.cachePrefix })
  return { take: buckets.take, freeHits: options.rateFreeHits, costs: options.rateCosts, onRefused }
}
