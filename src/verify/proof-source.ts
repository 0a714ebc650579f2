import type { AnswerCheck } from '../rpc/answer-check.ts'
import { toQuantity } from '../rpc/quantity.ts'
import type { Outcome, RpcCall } from '../rpc/types.ts'
import { ProofError, type ProvenState, verifyAccountProof } from './account-proof.ts'
import type { ProofRequest } from './state-claims.ts'

/** Sends a proof call upstream with an answer check (the forwarder, within the client's batch). */
export type ProofSender = (call: RpcCall, check: AnswerCheck) => Promise<Outcome>

/** Every proof offered for an account failed to verify. */
export const REFUSED = Symbol('refused')

/** What asking one account's proof came to: proven, every proof offered refused, or none to be had. */
export type Proving = ProvenState | typeof REFUSED | undefined

/** Proofs remembered (a replay touches a few hundred accounts of one block), while small. */
const MAX_PROOFS = 8_192
const MAX_REMEMBERED_SLOTS = 16

/**
 * Where proofs come from (SPEC §15): `eth_getProof` through the forwarder, each checked against the
 * root as it arrives (a proof that does not verify is its provider's fault: failover, a strike).
 * Remembered by block, account and slots, and by block and account (any proof of an account proves
 * its fields): one proof per account serves its balance, nonce and code reads. A proof that could
 * not be had is forgotten, to be asked again.
 */
export function createProofSource(
  count: (method: string, outcome: 'failed') => void,
): (request: ProofRequest, block: number, root: Promise<string | undefined>, send: ProofSender) => Promise<Proving> {
  const asked = new Map<string, Promise<Proving>>()
  const prove = (
    request: ProofRequest,
    block: number,
    root: Promise<string | undefined>,
    send: ProofSender,
  ): Promise<Proving> => {
    const accountKey = `${block}:${request.address}`
    const key = `${accountKey}:${request.slots.join(',')}`
    const known = asked.get(key) ?? (request.slots.length === 0 ? asked.get(accountKey) : undefined)
    if (known !== undefined) return known
    const proving = proveNow(request, block, root, send)
    // Remembered only while small: a proof of many slots is used by its own call.
    if (request.slots.length > MAX_REMEMBERED_SLOTS) return proving
    while (asked.size >= MAX_PROOFS) asked.delete(asked.keys().next().value as string)
    asked.set(key, proving)
    asked.set(accountKey, proving)
    void proving.then((proven) => {
      if (proven !== undefined && proven !== REFUSED) return
      if (asked.get(key) === proving) asked.delete(key)
      if (asked.get(accountKey) === proving) asked.delete(accountKey)
    })
    return proving
  }

  /** One account's proof at `block`, verified to the root (undefined when none could be had). */
  const proveNow = async (
    request: ProofRequest,
    block: number,
    root: Promise<string | undefined>,
    send: ProofSender,
  ): Promise<Proving> => {
    let proven: ProvenState | undefined
    const call: RpcCall = {
      jsonrpc: '2.0',
      id: 0,
      method: 'eth_getProof',
      params: [request.address, request.slots, toQuantity(block)],
    }
    let refused = false
    const outcome = await send(call, async (value) => {
      const trusted = await root
      if (trusted === undefined) return undefined
      try {
        proven = verifyAccountProof(trusted, request.address, value)
        return undefined
      } catch (error) {
        if (!(error instanceof ProofError)) throw error
        refused = true
        count('eth_getProof', 'failed')
        return `a proof that does not verify: ${error.message}`
      }
    })
    if (outcome.resultJson !== undefined) return proven
    return refused ? REFUSED : undefined
  }
  return prove
}
