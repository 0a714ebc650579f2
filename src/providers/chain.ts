import type { Provider } from './provider.ts'
import { postToProvider } from './upstream.ts'

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
  /** Providers that did not answer `eth_chainId` in time. */
  silent: Provider[]
}

/** Ask every provider `eth_chainId` in parallel, bounded by `timeoutMs`; throws `MixedChainsError`. */
export async function detectChain(providers: readonly Provider[], timeoutMs: number): Promise<ChainDetection> {
  const body = '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}'
  const answers = await Promise.all(
    providers.map(async (provider) => {
      try {
        const answer = await postToProvider(provider, body, { timeoutMs, maxResponseBytes: 4096 })
        return { provider, chainId: answer.kind === 'result' ? parseQuantity(answer.resultJson) : undefined }
      } catch {
        return { provider, chainId: undefined }
      }
    }),
  )
  const chains = new Map<number, string[]>()
  for (const { provider, chainId } of answers) {
    if (chainId !== undefined) chains.set(chainId, [...(chains.get(chainId) ?? []), provider.label])
  }
  if (chains.size > 1) throw new MixedChainsError(chains)
  return {
    chainId: chains.keys().next().value,
    silent: answers.filter((answer) => answer.chainId === undefined).map((answer) => answer.provider),
  }
}

function parseQuantity(resultJson: string): number | undefined {
  const value: unknown = JSON.parse(resultJson)
  if (typeof value !== 'string' || !/^0x[0-9a-f]+$/i.test(value)) return undefined
  const id = Number.parseInt(value, 16)
  return Number.isSafeInteger(id) ? id : undefined
}
