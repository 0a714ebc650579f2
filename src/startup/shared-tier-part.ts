import { createSharedTier, type SharedTier, type SharedTierStatus } from '../cache/shared-tier.ts'
import type { ServerOptions } from '../config/schema.ts'
import { platform } from '../platform/index.ts'
import { log } from '../util/log.ts'
import { redactUrl } from '../util/redact.ts'

/** Redis lookups on the request path wait at most this long (SPEC §7: a few milliseconds). */
const SHARED_TIER_TIMEOUT_MS = 5
const SHARED_TIER_CONNECT_TIMEOUT_MS = 500

/**
 * The shared tier as a part that exists from the start (SPEC §7): empty until the chain is known
 * to be a real one, then the Redis tier for that chain. Development chains are never shared.
 */
export type SharedTierPart = {
  /** The tier in use, or undefined (none configured, chain not known yet, or a development chain). */
  current(): SharedTier | undefined
  /** The chain is known: open the tier for it, unless it is a development chain or the proxy is stopping. */
  open(chainId: number, devChain: boolean, stopping: boolean): void
  /** Its figures for `/metrics` and `/health`; undefined when no tier is configured. */
  status: (() => SharedTierStatus | undefined) | undefined
  stop(): void
}

export function createSharedTierPart({
  cacheUrl,
  cachePrefix,
}: Pick<ServerOptions, 'cacheUrl' | 'cachePrefix'>): SharedTierPart {
  const slot: { tier?: SharedTier } = {}
  return {
    current: () => slot.tier,
    open(chainId, devChain, stopping) {
      if (cacheUrl === undefined || stopping) return
      if (devChain) return log.info(`shared cache ${redactUrl(cacheUrl)} not used: a development chain is never shared`)
      slot.tier = openSharedTier(cacheUrl, cachePrefix, chainId)
    },
    status: cacheUrl === undefined ? undefined : () => slot.tier?.status(),
    stop: () => slot.tier?.stop(),
  }
}

/** The shared tier over the platform's Redis client; the URL's password never leaves it. */
function openSharedTier(url: string, prefix: string, chainId: number): SharedTier {
  const raw = URL.canParse(url) ? new URL(url).password : ''
  let password = raw
  try {
    password = decodeURIComponent(raw)
  } catch {
    // A malformed escape: the raw text is what could be printed.
  }
  return createSharedTier({
    open: () => platform.openRedis(url, { connectTimeoutMs: SHARED_TIER_CONNECT_TIMEOUT_MS }),
    label: redactUrl(url),
    secrets: [url, raw, password],
    prefix,
    chainId,
    timeoutMs: SHARED_TIER_TIMEOUT_MS,
    warn: (message) => log.warn(message),
    info: (message) => log.info(message),
  })
}
