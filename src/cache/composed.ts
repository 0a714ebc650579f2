import { accountInfoPartPlans, accountInfoParts, composeAccountInfo } from './account-info.ts'
import type { CachePlan } from './policy.ts'
import { composeStorageValues, storageValuesParts, storageValuesSlotPlans } from './storage-values.ts'

/**
 * Answers made of other cached answers, in one place so every caller knows them all:
 * `eth_getAccountInfo` is a balance, a nonce and code; `eth_getStorageValues` is slots.
 */

/** Whether `method`'s answers are made of parts (a cheap test before any planning). */
export function isComposed(method: string): boolean {
  return method === 'eth_getAccountInfo' || method === 'eth_getStorageValues'
}

/** The answer composed of its cached parts, or undefined when one is missing (or `plan` is not composed). */
export function composeFromParts(
  plan: CachePlan,
  params: unknown,
  lookup: (plan: CachePlan) => string | undefined,
): string | undefined {
  return composeAccountInfo(plan, params, lookup) ?? composeStorageValues(plan, lookup)
}

/** The parts an answer holds, as entries to store beside it. */
export function partsOfAnswer(plan: CachePlan, params: unknown, resultJson: string): [CachePlan, string][] {
  return [...accountInfoParts(plan, params, resultJson), ...storageValuesParts(plan, resultJson)]
}

/** The plans of the parts a composed answer is made of (none for another method). */
export function partPlansOf(plan: CachePlan, params: unknown): CachePlan[] {
  return [...accountInfoPartPlans(plan, params), ...storageValuesSlotPlans(plan)]
}
