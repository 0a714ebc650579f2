import type { Cache } from '../cache/cache.ts'
import { openChainCache } from '../cache/open-chain-cache.ts'
import type { Chain } from '../chain/chain.ts'
import type { ServerOptions } from '../config/schema.ts'
import { platform } from '../platform/index.ts'
import type { ProviderPool } from '../providers/pool.ts'
import { expandHome } from '../util/expand-home.ts'
import { log } from '../util/log.ts'
import type { SharedTierPart } from './shared-tier-part.ts'

export type CacheOpeningParts = {
  chain: Pick<Chain, 'known'>
  cache: Cache
  pool: Pick<ProviderPool, 'expectChain'>
  sharedTier: SharedTierPart
  /** Whether the proxy began stopping (its flush may already have run). */
  stopping: () => boolean
}

/**
 * Once the chain is known: the providers are held to it, the shared tier opens for it, and the
 * cache opens its store (SPEC §5.1, §5.4, §7). Settles when the cache is open (or failed to open).
 */
export function openCacheWhenKnown(
  options: Pick<ServerOptions, 'cacheDir' | 'maxCacheItems'>,
  parts: CacheOpeningParts,
): Promise<unknown> {
  return parts.chain.known.then((info) => {
    log.info(`upstream chain id ${info.chainId}${info.devChain ? ' (a development chain: cached in memory only)' : ''}`)
    parts.sharedTier.open(info.chainId, info.devChain, parts.stopping())
    parts.pool.expectChain(info.chainId)
    const opening = openChainCache({
      cache: parts.cache,
      chainId: info.chainId,
      devChain: info.devChain,
      cacheDir: expandHome(options.cacheDir, platform.homeDir()),
      maxItems: options.maxCacheItems,
      openSqlite: platform.openSqlite,
      info: (message) => log.info(message),
      warn: (message) => log.warn(message),
    })
    // Opened after the proxy began stopping (its flush already ran): close it now.
    return opening.finally(() => {
      if (parts.stopping()) parts.cache.close()
    })
  })
}
