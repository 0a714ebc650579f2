import { toQuantity } from '../rpc/quantity.ts'
import { type CachePlan, planCall } from './policy.ts'

/**
 * `eth_getStorageValues({address: [slots]}, block)` reads up to 1,024 slots at once (SPEC §5.1): it
 * is `eth_getStorageAt` of each, so it is answered from those entries when every one is cached,
 * and its answers are stored as those entries too. The answer maps each address, in lower case as
 * nodes write it, to its slots' 32-byte values in the order asked.
 */
export function composeStorageValues(
  plan: CachePlan,
  lookup: (plan: CachePlan) => string | undefined,
): string | undefined {
  const asked = slotsAsked(plan)
  if (asked === undefined) return undefined
  const parts: string[] = []
  for (const [address, slots] of asked) {
    const values: string[] = []
    for (const slot of slots) {
      const value = lookupSlot(plan, address, slot, lookup)
      if (value === undefined) return undefined
      values.push(value)
    }
    parts.push(`${JSON.stringify(address.toLowerCase())}:[${values.join(',')}]`)
  }
  return `{${parts.join(',')}}`
}

/** The `eth_getStorageAt` entries an `eth_getStorageValues` answer holds, to store beside it. */
export function storageValuesParts(plan: CachePlan, resultJson: string): [CachePlan, string][] {
  const asked = slotsAsked(plan)
  if (asked === undefined) return []
  const result: unknown = JSON.parse(resultJson)
  if (result === null || typeof result !== 'object' || Array.isArray(result)) return []
  const byAddress = new Map(Object.entries(result).map(([address, values]) => [address.toLowerCase(), values]))
  const parts: [CachePlan, string][] = []
  for (const [address, slots] of asked) {
    const values = byAddress.get(address.toLowerCase())
    if (!Array.isArray(values) || values.length !== slots.length) return []
    for (const [index, slot] of slots.entries()) {
      const value = values[index]
      const part = planCall('eth_getStorageAt', [address, slot, blockOf(plan)])
      if (typeof value !== 'string' || !WORD.test(value) || part === undefined) return []
      parts.push([part, JSON.stringify(value)])
    }
  }
  return parts
}

/** The `eth_getStorageAt` plans an `eth_getStorageValues` call is made of (none for another method). */
export function storageValuesSlotPlans(plan: CachePlan): CachePlan[] {
  const asked = slotsAsked(plan) ?? []
  return asked.flatMap(([address, slots]) =>
    slots.flatMap((slot) => planCall('eth_getStorageAt', [address, slot, blockOf(plan)]) ?? []),
  )
}

const WORD = /^0x[0-9a-fA-F]{64}$/

function slotsAsked(plan: CachePlan): [string, unknown[]][] | undefined {
  if (plan.method !== 'eth_getStorageValues' || plan.anchor.kind !== 'block') return undefined
  const map = plan.params[0]
  if (map === null || typeof map !== 'object' || Array.isArray(map)) return undefined
  const entries = Object.entries(map)
  return entries.every(([, slots]) => Array.isArray(slots)) ? (entries as [string, unknown[]][]) : undefined
}

function blockOf(plan: CachePlan): string {
  return toQuantity((plan.anchor as { number: number }).number)
}

function lookupSlot(plan: CachePlan, address: string, slot: unknown, lookup: (plan: CachePlan) => string | undefined) {
  const part = planCall('eth_getStorageAt', [address, slot, blockOf(plan)])
  return part === undefined ? undefined : lookup(part)
}
