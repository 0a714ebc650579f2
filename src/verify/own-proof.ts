import { historyNeedOf } from '../rpc/history-need.ts'
import type { RpcCall } from '../rpc/types.ts'
import { ProofError, quantityOf, verifyAccountProof } from './account-proof.ts'
import type { StateRoots } from './state-roots.ts'
import type { Verified, Verifying } from './verdicts.ts'

/** A client's own `eth_getProof` is state too: its answer is verified as it is, no second call. */
export function ownProofCheck(
  call: RpcCall,
  isFinal: (block: number) => boolean,
  roots: StateRoots,
  count: (method: string, outcome: 'verified' | 'unverifiable' | 'failed') => void,
): Verifying | undefined {
  const address = Array.isArray(call.params) ? call.params[0] : undefined
  const block = historyNeedOf(call)?.block
  if (typeof address !== 'string' || block === undefined || !isFinal(block)) return undefined
  // Slots as the client wrote them; one this reading cannot name (geth also takes "0x", "1") is not judged here.
  const asked = (call.params as unknown[])[1]
  const slots = Array.isArray(asked) ? asked.map(quantityOf) : []
  if (!Array.isArray(asked) || slots.some((slot) => slot === undefined)) return undefined
  const root = roots.rootOf(block)
  const verifying = {
    verified: 'none' as Verified,
    check: async (value: unknown) => {
      const trusted = await root
      if (trusted === undefined) {
        count(call.method, 'unverifiable')
        return undefined
      }
      try {
        const proven = verifyAccountProof(trusted, address, value)
        // Every slot asked must be proven: a proof that leaves one out proves nothing about it.
        if (slots.some((slot) => !proven.storage.has(slot as string))) throw new ProofError('a slot asked has no proof')
        if (String((value as { address?: unknown }).address).toLowerCase() !== address.toLowerCase())
          throw new ProofError('a proof of another address')
      } catch (error) {
        if (!(error instanceof ProofError)) throw error
        count(call.method, 'failed')
        return `a proof that does not verify: ${error.message}`
      }
      verifying.verified = 'proof'
      count(call.method, 'verified')
      return undefined
    },
  }
  return verifying
}
