import { type Chain, createChain } from '../chain/chain.ts'
import type { ServerOptions } from '../config/schema.ts'
import type { ProviderPool } from '../providers/pool.ts'
import { markUnreachable } from '../providers/provider.ts'
import { log } from '../util/log.ts'

const CHAIN_DETECTION_TIMEOUT_MS = 5_000

/**
 * What the proxy knows of its chain (SPEC §5.1, §6): detection over the pool, then one head tracker,
 * fed by the pool's health probes too. `onReset`: a development chain was restarted or reset under
 * the proxy, and what was cached of it must go.
 */
export function createChainPart(
  options: Pick<ServerOptions, 'chainId' | 'devChain' | 'finalityDepth' | 'healthCheckInterval'>,
  pool: ProviderPool,
  onReset: () => void,
): Chain {
  const chain = createChain({
    providers: pool.providers,
    send: (call) => pool.forward(call),
    askSeveral: (call) => pool.askSeveral(call),
    chainId: options.chainId,
    devChain: options.devChain,
    finalityDepth: options.finalityDepth,
    detectionTimeoutMs: CHAIN_DETECTION_TIMEOUT_MS,
    maxDetectionPauseMs: options.healthCheckInterval * 1000,
    // What each provider says it holds is known before the first call is served (0 wasted attempts from the first).
    alongside: () => pool.history.askCapabilities(),
    idleRefreshMs: options.healthCheckInterval * 1000,
    onSilent: (provider) => markUnreachable(provider, Date.now()),
    onReset: (reason) => {
      log.warn(`the development chain was restarted or reset under the proxy (${reason}): its cache is emptied`)
      onReset()
    },
    warn: (message) => log.warn(message),
  })
  pool.watch({ unanswered: () => chain.suspect(), head: (block) => chain.observeHead(block) })
  return chain
}
