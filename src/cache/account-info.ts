import { accountInfoFields } from '../rpc/methods.ts'
import { type CachePlan, planCall } from './policy.ts'

/**
 * `eth_getAccountInfo(address, block)` is `eth_getBalance`, `eth_getTransactionCount` and
 * `eth_getCode` at the same block in one answer. Foundry 1.x asks one form or the other for the
 * same account from run to run, so what is cached in one form answers the other too.
 */
const PARTS = accountInfoFields()

/** The three single answers an `eth_getAccountInfo` result holds, as entries to store beside it. */
export function accountInfoParts(plan: CachePlan, params: unknown, resultJson: string): [CachePlan, string][] {
  if (plan.method !== 'eth_getAccountInfo' || !Array.isArray(params)) return []
  let info: unknown
  try {
    info = JSON.parse(resultJson)
  } catch {
    return []
  }
  if (info === null || typeof info !== 'object') return []
  const parts: [CachePlan, string][] = []
  for (const [field, method] of PARTS) {
    const value = (info as Record<string, unknown>)[field]
    const partPlan = planCall(method, params)
    if (typeof value !== 'string' || partPlan === undefined) return []
    parts.push([partPlan, JSON.stringify(value)])
  }
  return parts
}

/** The plans of an `eth_getAccountInfo` call's three parts (none for another method). */
export function accountInfoPartPlans(plan: CachePlan, params: unknown): CachePlan[] {
  if (plan.method !== 'eth_getAccountInfo') return []
  return PARTS.flatMap(([, method]) => planCall(method, params) ?? [])
}

/** An `eth_getAccountInfo` result composed from its three cached parts, or undefined when one is missing. */
export function composeAccountInfo(
  plan: CachePlan,
  params: unknown,
  lookup: (plan: CachePlan) => string | undefined,
): string | undefined {
  if (plan.method !== 'eth_getAccountInfo') return undefined
  const values: string[] = []
  for (const [field, method] of PARTS) {
    const partPlan = planCall(method, params)
    const value = partPlan === undefined ? undefined : lookup(partPlan)
    if (value === undefined) return undefined
    values.push(`${JSON.stringify(field)}:${value}`)
  }
  return `{${values.join(',')}}`
}
