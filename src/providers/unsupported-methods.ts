import { RPC_CODES } from '../rpc/errors.ts'
import type { RpcErrorObject } from '../rpc/types.ts'
import type { Provider } from './provider.ts'

/**
 * Methods a provider said it lacks (`-32601`), whatever their namespace (SPEC §6: `eth_getProof`,
 * `eth_getStorageValues` or `debug_*` are as often missing as `anvil_*`), remembered per provider for
 * `restMs`: Foundry probes `anvil_nodeInfo` on every run, and against a remote
 * provider each probe is a billed round trip for a known "no". Providers that lack a method are
 * asked last (another may have it); once every configured provider has said so, the call gets that
 * same error at once. Any other answer for the method forgets the provider's "no".
 */
export type UnsupportedMethods = {
  /** The error every provider gave for `method` within the rest period; undefined when one has not. */
  known(method: string, providers: readonly Provider[]): RpcErrorObject | undefined
  /** `candidates` with the providers that lack `method` moved last (another may have it). */
  othersFirst<T extends { provider: Provider }>(method: string, candidates: T[]): T[]
  /** What a provider answered for `method`: `-32601` is remembered, anything else forgets. */
  observe(provider: Provider, method: string, error: RpcErrorObject | undefined): void
  /** The methods `provider` said it lacks, within the rest period (for `edb_providers`). */
  refusedBy(provider: Provider): string[]
}

/** Method names are client input: at most this many are remembered. */
const MAX_METHODS = 256

export function createUnsupportedMethods({
  restMs,
  now = Date.now,
}: {
  restMs: number
  now?: () => number
}): UnsupportedMethods {
  const methods = new Map<string, Map<Provider, { error: RpcErrorObject; untilMs: number }>>()
  return {
    known(method, providers) {
      const said = methods.get(method)
      if (said === undefined || providers.length === 0) return undefined
      const at = now()
      let error: RpcErrorObject | undefined
      for (const provider of providers) {
        const entry = said.get(provider)
        if (entry === undefined || entry.untilMs <= at) return undefined
        error = entry.error
      }
      return error
    },
    othersFirst(method, candidates) {
      const said = methods.get(method)
      if (said === undefined) return candidates
      const at = now()
      const lacks = (candidate: { provider: Provider }) => (said.get(candidate.provider)?.untilMs ?? 0) > at
      return [...candidates.filter((candidate) => !lacks(candidate)), ...candidates.filter(lacks)]
    },
    observe(provider, method, error) {
      if (error === undefined || error.code !== RPC_CODES.methodNotFound) {
        if (methods.size === 0) return
        methods.get(method)?.delete(provider)
        return
      }
      let said = methods.get(method)
      if (said === undefined) {
        if (methods.size >= MAX_METHODS) return
        said = new Map()
        methods.set(method, said)
      }
      said.set(provider, { error, untilMs: now() + restMs })
    },
    refusedBy(provider) {
      const at = now()
      return [...methods].flatMap(([method, said]) => ((said.get(provider)?.untilMs ?? 0) > at ? [method] : []))
    },
  }
}
