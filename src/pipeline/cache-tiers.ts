import type { Cache } from '../cache/cache.ts'
import { composeFromParts, partPlansOf } from '../cache/composed.ts'
import type { CachePlan } from '../cache/policy.ts'
import type { SharedTier } from '../cache/shared-tier.ts'
import type { Tier } from './tiers.ts'

export type CacheTiersOptions = {
  cache: Cache
  /** Whether an imported entry is final (SPEC §5: judged like a fresh answer). */
  isFinal: (plan: CachePlan, resultJson: string) => boolean | Promise<boolean>
  /** The shared tier (SPEC §7), once the chain is known to be a real one. */
  sharedTier?: () => SharedTier | undefined
  /** Where an entry lives in the shared tier (proven state under its own keys, SPEC §15). @default the plan */
  sharedPlanOf?: (plan: CachePlan) => CachePlan
  /** Whether what the shared tier holds for `plan` was proven when written (proven state's own keys). @default false */
  isProven?: (plan: CachePlan) => boolean
}

/**
 * The tiers a cacheable call is looked up in, in order (SPEC §5, §7): memory then disk; an
 * `eth_getAccountInfo` composed of its cached parts; an entry imported from the reference cache;
 * the team's shared tier. Adding a tier is adding a row.
 */
export function createCacheTiers({
  cache,
  isFinal,
  sharedTier,
  sharedPlanOf = (plan) => plan,
  isProven = () => false,
}: CacheTiersOptions): Tier[] {
  const tiers: Tier[] = [
    (plan) => cache.lookup(plan),
    (plan, params) => {
      const resultJson = composeFromParts(plan, params, cache.lookup)
      // Composed of proven parts, it is proven too (SPEC §15).
      const proven = () => partPlansOf(plan, params).every((part) => cache.isProven(part.key))
      if (resultJson !== undefined) cache.store(plan, resultJson, cache.epoch, proven())
      return resultJson
    },
    (plan, params) => {
      const resultJson = cache.imported(plan, params)
      return resultJson === undefined ? undefined : keptIfFinal(cache, plan, resultJson, isFinal)
    },
  ]
  if (sharedTier !== undefined)
    tiers.push((plan) => sharedHit(cache, plan, sharedTier(), sharedPlanOf(plan), isProven(plan)))
  return tiers
}

/** An imported entry is served (and kept) only when SPEC §5 allows it. */
async function keptIfFinal(
  cache: Cache,
  plan: CachePlan,
  resultJson: string,
  isFinal: CacheTiersOptions['isFinal'],
): Promise<string | undefined> {
  const epoch = cache.epoch
  if (!(await isFinal(plan, resultJson))) return undefined
  cache.store(plan, resultJson, epoch)
  return resultJson
}

/** A final answer another proxy stored: copied down into memory and the local store, proven if it was written so. */
async function sharedHit(
  cache: Cache,
  plan: CachePlan,
  tier: SharedTier | undefined,
  shared: CachePlan,
  proven: boolean,
): Promise<string | undefined> {
  if (tier === undefined) return undefined
  const epoch = cache.epoch
  const resultJson = await tier.lookup(shared)
  if (resultJson !== undefined) cache.store(plan, resultJson, epoch, proven)
  return resultJson
}
