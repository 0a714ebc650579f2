import type { Cache } from '../cache/cache.ts'
import { type CachePlan, planCall } from '../cache/policy.ts'
import type { Chain } from '../chain/chain.ts'
import type { ServerOptions } from '../config/schema.ts'
import type { ProviderPool } from '../providers/pool.ts'
import { toQuantity } from '../rpc/quantity.ts'
import { createStateRoots } from '../verify/state-roots.ts'
import { createStateVerifier, type StateVerifier } from '../verify/state-verifier.ts'
import { warmUpProofChecks } from '../verify/warm-up.ts'

/**
 * Verified state (SPEC §15): state answers proven against the state roots of checked headers, the
 * headers and proofs asked of the pool. None with `--verify-state off`. Once the chain is known
 * and proofs apply to it (not a development chain), the proof checks are warmed up.
 */
export function createVerifyPart(
  options: Pick<ServerOptions, 'verifyState'>,
  pool: Pick<ProviderPool, 'askSeveral' | 'providers'>,
  chain: Pick<Chain, 'devChain' | 'known'>,
  cache: Pick<Cache, 'lookup' | 'store' | 'epoch' | 'ready'>,
): StateVerifier | undefined {
  if (options.verifyState === 'off') return undefined
  const headerPlan = (block: number) => planCall('eth_getBlockByNumber', [toQuantity(block), false]) as CachePlan
  const roots = createStateRoots({
    headers: {
      lookup: (block) => (cache.ready ? cache.lookup(headerPlan(block)) : undefined),
      store: (block, resultJson) => cache.store(headerPlan(block), resultJson, cache.epoch),
    },
    // A provider struck for a bad header still says which hash it gives for the number.
    askSeveral: (call, count) => pool.askSeveral(call, count, { unhealthyToo: true }),
    providerCount: () => pool.providers.length,
  })
  chain.known.then(
    (info) => {
      if (!info.devChain) warmUpProofChecks()
    },
    () => {},
  )
  return createStateVerifier({ mode: options.verifyState, roots, applies: () => !chain.devChain })
}
