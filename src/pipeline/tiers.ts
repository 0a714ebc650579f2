import type { CachePlan } from '../cache/policy.ts'

/**
 * One place an answer may already be: memory and disk, an answer composed of cached parts, an
 * imported reference entry, the shared tier. A tier that finds an answer copies it down into the
 * local cache itself. Synchronous when it can be (the hit path stays free of promises).
 */
export type Tier = (plan: CachePlan, params: unknown) => string | undefined | Promise<string | undefined>

/** The first answer the tiers hold, asked in order; synchronous while every tier asked was. */
export function firstHit(
  tiers: readonly Tier[],
  plan: CachePlan,
  params: unknown,
  from = 0,
): string | undefined | Promise<string | undefined> {
  for (let index = from; index < tiers.length; index++) {
    const found = (tiers[index] as Tier)(plan, params)
    if (found instanceof Promise) return found.then((value) => value ?? firstHit(tiers, plan, params, index + 1))
    if (found !== undefined) return found
  }
  return undefined
}
