import { toQuantity } from '../rpc/quantity.ts'
import type { Outcome, RpcCall } from '../rpc/types.ts'
import { recomputeBlockHash } from './header-hash.ts'

/** The state roots proofs are checked against, by block number (SPEC §15). */
export type StateRoots = {
  /** The trusted state root of final block `block`, or undefined when none can be trusted (asked once, then remembered). */
  rootOf(block: number): Promise<string | undefined>
}

/** How long a block whose header could not be trusted stays so before it is asked again. */
const UNTRUSTED_FOR_MS = 10_000

/** Roots remembered; a debugging session touches a handful of blocks. */
const MAX_ROOTS = 4_096

/**
 * A header is trusted when its hash, recomputed from its fields, is a hash that two providers give
 * for its number (one, when only one provider is configured). A provider whose header does not
 * recompute to the hash it states is not believed, but its stated hash still counts as what it
 * gives. A header of a layout not known here is never trusted (counted where it is recomputed).
 */
export function createStateRoots({
  askSeveral,
  providerCount,
  headers,
}: {
  /** The same call to up to `count` distinct providers, one outcome each. */
  askSeveral: (call: RpcCall, count: number) => Promise<Outcome[]>
  providerCount: () => number
  /**
   * The cache's headers (`eth_getBlockByNumber(N, false)`): with one provider, a header stored
   * (checked on its way in) is the one it gives, and asking again would be a second request for
   * what a client already asked; a header learned here is stored for the client's own call.
   */
  headers?: { lookup(block: number): string | undefined; store(block: number, resultJson: string): void }
}): StateRoots {
  const roots = new Map<number, Promise<string | undefined>>()
  const learn = async (block: number): Promise<string | undefined> => {
    const needed = providerCount() >= 2 ? 2 : 1
    const cached = needed === 1 ? headers?.lookup(block) : undefined
    if (cached !== undefined) return trustedRoot([{ resultJson: cached }], block, 1)
    const call: RpcCall = { jsonrpc: '2.0', id: 1, method: 'eth_getBlockByNumber', params: [toQuantity(block), false] }
    const outcomes = await askSeveral(call, Math.min(3, Math.max(needed, providerCount())))
    const root = trustedRoot(outcomes, block, needed)
    const trusted = root === undefined ? undefined : outcomes.find((outcome) => isHeaderOf(outcome, root))
    if (trusted?.resultJson !== undefined) headers?.store(block, trusted.resultJson)
    return root
  }
  return {
    rootOf(block) {
      const known = roots.get(block)
      if (known !== undefined) return known
      const learning = learn(block).catch(() => undefined)
      if (roots.size >= MAX_ROOTS) roots.delete(roots.keys().next().value as number)
      roots.set(block, learning)
      // An untrusted answer is remembered a short while, then asked again (a provider may be back):
      // state calls at that block do not each fan the header out to three providers meanwhile.
      void learning.then((root) => {
        if (root !== undefined) return
        const timer = setTimeout(() => roots.get(block) === learning && roots.delete(block), UNTRUSTED_FOR_MS)
        ;(timer as { unref?: () => void }).unref?.()
      })
      return learning
    },
  }
}

/** The state root of the header whose hash `needed` answers state and whose fields hash to it; undefined when none. */
function trustedRoot(outcomes: Outcome[], block: number, needed: number): string | undefined {
  const stated = new Map<string, number>()
  const valid = new Map<string, string>()
  for (const outcome of outcomes) {
    const header = parse(outcome.resultJson)
    if (header === undefined || header.number !== toQuantity(block) || typeof header.hash !== 'string') continue
    const hash = header.hash.toLowerCase()
    stated.set(hash, (stated.get(hash) ?? 0) + 1)
    if (recomputeBlockHash(header) === hash && typeof header.stateRoot === 'string')
      valid.set(hash, header.stateRoot.toLowerCase())
  }
  for (const [hash, count] of stated) if (count >= needed && valid.has(hash)) return valid.get(hash)
  return undefined
}

/** Whether an outcome is a header with this state root whose fields hash to its hash (the one to keep). */
function isHeaderOf(outcome: Outcome, root: string): boolean {
  const header = parse(outcome.resultJson)
  return (
    header !== undefined &&
    String(header.stateRoot).toLowerCase() === root &&
    recomputeBlockHash(header) === String(header.hash).toLowerCase()
  )
}

function parse(resultJson: string | undefined): Record<string, unknown> | undefined {
  if (resultJson === undefined) return undefined
  try {
    const value: unknown = JSON.parse(resultJson)
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined
  } catch {
    return undefined
  }
}
