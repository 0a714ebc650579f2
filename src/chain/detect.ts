import { addLatency } from '../providers/latency.ts'
import type { Provider } from '../providers/provider.ts'
import { postToProvider } from '../providers/upstream.ts'
import { parseQuantityJson } from '../rpc/quantity.ts'

/** Upstreams disagree about the chain: a startup error that names them (redacted). */
export class MixedChainsError extends Error {
  override name = 'MixedChainsError'
  constructor(readonly chains: Map<number, string[]>) {
    const parts = [...chains].map(([id, labels]) => `chain ${id}: ${labels.join(', ')}`)
    super(`upstream providers serve different chains (${parts.join('; ')})`)
  }
}

export type ChainDetection = {
  /** The one chain every answering provider agrees on, or undefined when none answered. */
  chainId: number | undefined
  /** `web3_clientVersion` of every provider that said (SPEC §8: any development client makes a dev chain). */
  clientVersions: string[]
  /** Providers that did not answer `eth_chainId` in time. */
  silent: Provider[]
}

const CHAIN_ID = '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}'
const CLIENT_VERSION = '{"jsonrpc":"2.0","id":2,"method":"web3_clientVersion","params":[]}'

/**
 * Ask every provider `eth_chainId` and `web3_clientVersion` in parallel, bounded by `timeoutMs`.
 * Chain ids are compared as numbers (`"0x01"` is chain 1). Throws `MixedChainsError`.
 */
export async function detectChain(providers: readonly Provider[], timeoutMs: number): Promise<ChainDetection> {
  const ask = async (provider: Provider, body: string) => {
    const startedAt = Date.now()
    try {
      const answer = await postToProvider(provider, body, { timeoutMs, maxResponseBytes: 4096 })
      // Any answer is a round trip: the first latency sample, before the first client call's hedge needs one.
      addLatency(provider.latency, Date.now() - startedAt)
      return answer.kind === 'result' ? answer.resultJson : undefined
    } catch {
      return undefined
    }
  }
  const answers = await Promise.all(
    providers.map(async (provider) => {
      const [chainJson, versionJson] = await Promise.all([ask(provider, CHAIN_ID), ask(provider, CLIENT_VERSION)])
      const version: unknown = versionJson === undefined ? undefined : safeParse(versionJson)
      return { provider, chainId: chainJson === undefined ? undefined : parseQuantityJson(chainJson), version }
    }),
  )
  const chains = new Map<number, string[]>()
  for (const { provider, chainId } of answers) {
    if (chainId !== undefined) chains.set(chainId, [...(chains.get(chainId) ?? []), provider.label])
  }
  if (chains.size > 1) throw new MixedChainsError(chains)
  return {
    chainId: chains.keys().next().value,
    clientVersions: answers.flatMap(({ version }) => (typeof version === 'string' ? [version] : [])),
    silent: answers.filter((answer) => answer.chainId === undefined).map((answer) => answer.provider),
  }
}

function safeParse(json: string): unknown {
  try {
    return JSON.parse(json)
  } catch {
    return undefined
  }
}
