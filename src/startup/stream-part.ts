import type { Chain } from '../chain/chain.ts'
import type { ServerOptions } from '../config/schema.ts'
import type { InternalCalls } from '../pipeline/internal-calls.ts'
import { createStreamHub, type StreamHub } from '../streams/hub.ts'
import { socketCandidates } from '../streams/socket-candidates.ts'
import type { SourceDown } from '../streams/upstream-subscription.ts'
import { log } from '../util/log.ts'

/** The stream hub (SPEC §12) over the proxy's own calls; its heads feed the chain's view. */
export function createStreamPart(
  options: Pick<ServerOptions, 'wsUrls' | 'rpcUrls' | 'pollIntervalMs'>,
  internal: InternalCalls,
  chain: Pick<Chain, 'observeHead' | 'touch' | 'info'>,
): StreamHub {
  return createStreamHub({
    candidates: socketCandidates(options.wsUrls, options.rpcUrls),
    pollIntervalMs: options.pollIntervalMs,
    call: internal.stream,
    onHead: (block) => {
      chain.observeHead(block)
      chain.touch()
    },
    warn: (message) => log.warn(message),
    chainId: () => chain.info?.chainId,
    onSourceDown: reportSourceDown(),
  })
}

/** A feed's outage at debug level; a feed on another chain once, as a warning (it is never used). */
function reportSourceDown(): (label: string, reason: SourceDown) => void {
  const wrongChainFeeds = new Set<string>()
  return (label, reason) => {
    if (reason.kind === 'lost') return log.debug(`${label}: WebSocket feed down (${reason.detail})`)
    if (!wrongChainFeeds.has(label)) log.warn(`${label}: a WebSocket feed that ${reason.detail}: not used`)
    wrongChainFeeds.add(label)
  }
}
