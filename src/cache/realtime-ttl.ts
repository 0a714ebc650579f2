import { methodInfo } from '../rpc/methods.ts'
import { canonicalJson } from './canonical-json.ts'

export type RealtimeOptions = {
  /** Milliseconds per method (`realtime-ttl-ms` in the config file). */
  ttls: Readonly<Record<string, number>>
  maxEntries?: number
  now?: () => number
}

/**
 * Short-lived answers (opt-in, SPEC §13): a "now" answer shared for at most its method's TTL, in
 * memory only (never the store, never Redis). `eth_feeHistory` only when it asks up to `latest`.
 */
export type RealtimeCache = {
  /** The key of a call that may be shared, or undefined. */
  keyOf(method: string, params: unknown): string | undefined
  get(key: string): string | undefined
  set(key: string, method: string, resultJson: string): void
  /** A history rewrite (dev chains): nothing shared before it is shared after. */
  clear(): void
}

export function createRealtimeCache({ ttls, maxEntries = 1_024, now = Date.now }: RealtimeOptions): RealtimeCache {
  const entries = new Map<string, { resultJson: string; expiresAtMs: number }>()
  return {
    keyOf(method, params) {
      if (!Object.hasOwn(ttls, method)) return undefined
      // SPEC §13: `eth_feeHistory` only when it asks up to `latest` (the method table's `at-latest`).
      if (methodInfo(method).realtime === 'at-latest' && !(Array.isArray(params) && params[1] === 'latest'))
        return undefined
      return `${method}:${canonicalJson(params ?? [])}`
    },
    get(key) {
      const entry = entries.get(key)
      if (entry === undefined) return undefined
      if (now() < entry.expiresAtMs) return entry.resultJson
      entries.delete(key)
      return undefined
    },
    set(key, method, resultJson) {
      const ttl = Object.hasOwn(ttls, method) ? ttls[method] : undefined
      if (ttl === undefined || ttl <= 0) return
      entries.delete(key)
      entries.set(key, { resultJson, expiresAtMs: now() + ttl })
      if (entries.size > maxEntries) entries.delete(entries.keys().next().value as string)
    },
    clear: () => entries.clear(),
  }
}
