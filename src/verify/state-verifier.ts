import { methodInfo } from '../rpc/methods.ts'
import type { RpcCall } from '../rpc/types.ts'
import { type ProvenState, quantityOf } from './account-proof.ts'
import { ownProofCheck } from './own-proof.ts'
import { createProofSource, type ProofSender, type Proving, REFUSED } from './proof-source.ts'
import { claimsOf, type ProofRequest, type StateClaims, slotWord } from './state-claims.ts'
import type { StateRoots } from './state-roots.ts'
import type { VerificationCounts, Verified, Verifying, VerifyMode } from './verdicts.ts'

export type { ProofSender } from './proof-source.ts'

export type { VerificationCounts, Verified, Verifying, VerifyMode } from './verdicts.ts'

export type StateVerifier = {
  readonly mode: VerifyMode
  /**
   * Begin verifying a state call at a final block: its proofs are asked now, beside the call
   * itself (one `eth_getProof` per account, the slots asked with it), within the client's batch.
   * Undefined for a call that is not state, or not at a final block number.
   */
  begin(call: RpcCall, isFinal: (block: number) => boolean, send: ProofSender): Verifying | undefined
  /**
   * Prove the accounts a prefetch read at final block `block` (SPEC §15: prefetched state is proven
   * the same way, one proof per account with its slots, sent together): per account, `proof`,
   * `none` (no proof to be had) or `failed` (its values are not the proven ones: not stored);
   * undefined when nothing is proven here (off, or a development chain).
   */
  proveAccounts(
    accounts: readonly AccountClaim[],
    block: number,
    send: ProofSender,
  ): Promise<AccountVerdict[] | undefined>
  /** Whether answers of `method` are state that is proven here (and so carry `x-verified`). */
  isState(method: string): boolean
  counts(): VerificationCounts
}

/** An account's state as a prefetch read it: fields, and slots (quantities) to their 32-byte values. */
export type AccountClaim = {
  address: string
  balance: string
  nonce: string
  code: string
  storage: ReadonlyMap<string, string>
}

/** What a prefetched account came to. */
export type AccountVerdict = 'proof' | 'none' | 'failed'

/** Method names counted are bounded like the other per-method figures. */
const MAX_METHODS = 64

/**
 * SPEC §15: state answers are held against `eth_getProof` proofs verified to the block's trusted
 * state root. A proof that does not verify is the fault of the provider that gave it (failover, a
 * strike), and so is an answer that contradicts a verified proof. When no proof can be had (the
 * method unsupported or pruned everywhere, no trusted root), the answer is not provable: `none`.
 */
export function createStateVerifier({
  mode,
  roots,
  applies = () => true,
}: {
  mode: VerifyMode
  roots: StateRoots
  /**
   * Whether proofs mean anything on this chain now. Not on a development chain: its cheat codes
   * (`anvil_setStorageAt`, `hardhat_setBalance`) rewrite the newest block's state in place, so its
   * proofs stop matching its header; its cache is memory-only and never shared anyway.
   */
  applies?: () => boolean
}): StateVerifier {
  const counts: VerificationCounts = {}
  const count = (method: string, outcome: 'verified' | 'unverifiable' | 'failed') => {
    const name = method in counts || Object.keys(counts).length < MAX_METHODS ? method : 'other'
    counts[name] ??= { verified: 0, unverifiable: 0, failed: 0 }
    counts[name][outcome] += 1
  }

  const prove = createProofSource(count)

  return {
    mode,
    begin(call, isFinal, send) {
      if (mode === 'off' || !applies()) return undefined
      if (call.method === 'eth_getProof') return ownProofCheck(call, isFinal, roots, count)
      const claims = claimsOf(call)
      if (claims === undefined || !isFinal(claims.block)) return undefined
      const proofs = Promise.all(
        claims.requests.map((request) => prove(request, claims.block, roots.rootOf(claims.block), send)),
      )
      return claimedCheck(call.method, claims, proofs, count)
    },
    async proveAccounts(accounts, block, send) {
      if (mode === 'off' || !applies()) return undefined
      const root = roots.rootOf(block)
      const proofs = await Promise.all(
        accounts.map((account) =>
          prove(
            {
              address: account.address.toLowerCase(),
              slots: [...account.storage.keys()].map((slot) => slotWord(slot) as string),
            },
            block,
            root,
            send,
          ),
        ),
      )
      return accounts.map((account, index) => {
        const proven = proofs[index]
        const entries = 3 + account.storage.size
        const verdict: AccountVerdict =
          proven === REFUSED
            ? 'failed'
            : proven === undefined
              ? 'none'
              : accountDiffers(account, proven) === undefined
                ? 'proof'
                : 'failed'
        for (let entry = 0; entry < entries; entry++)
          count('prefetch', verdict === 'proof' ? 'verified' : verdict === 'none' ? 'unverifiable' : 'failed')
        return verdict
      })
    },
    isState(method) {
      if (!applies()) return false
      const info = methodInfo(method)
      return (
        method === 'eth_getProof' ||
        (info.history === 'state' && (info.account !== undefined || info.slotMap !== undefined))
      )
    },
    counts() {
      return counts
    },
  }
}

/**
 * The check of a state answer against the proofs of what it claims: proven when they agree, a
 * provider fault (the mismatch) when they do not, `none` when no proof could be had, `refused`
 * when every proof offered failed to verify.
 */
function claimedCheck(
  method: string,
  claims: StateClaims,
  proofs: Promise<Proving[]>,
  count: (method: string, outcome: 'verified' | 'unverifiable' | 'failed') => void,
): Verifying {
  const proven = proofs.then((states) => {
    if (states.includes(REFUSED)) return REFUSED
    const byAddress = new Map<string, ProvenState>()
    for (const [index, state] of states.entries()) {
      if (state === undefined || state === REFUSED) return undefined
      byAddress.set((claims.requests[index] as ProofRequest).address, state)
    }
    return byAddress
  })
  const verifying = {
    verified: 'none' as Verified,
    check: async (value: unknown) => {
      const states = await proven
      if (states === undefined || states === REFUSED) {
        verifying.verified = states === REFUSED ? 'refused' : 'none'
        count(method, states === REFUSED ? 'failed' : 'unverifiable')
        return undefined
      }
      const differs = claims.compare(value, states)
      count(method, differs === undefined ? 'verified' : 'failed')
      if (differs === undefined) verifying.verified = 'proof'
      return differs
    },
  }
  return verifying
}

/** What differs between a prefetched account and its proof (undefined: nothing). */
function accountDiffers(account: AccountClaim, proven: ProvenState): string | undefined {
  const claims = claimsOf({
    jsonrpc: '2.0',
    id: 0,
    method: 'eth_getAccountInfo',
    params: [account.address, '0x0'],
  }) as StateClaims
  const byAddress = new Map([[account.address.toLowerCase(), proven]])
  const fields = claims.compare({ balance: account.balance, nonce: account.nonce, code: account.code }, byAddress)
  if (fields !== undefined) return fields
  for (const [slot, value] of account.storage)
    if (quantityOf(value) !== proven.storage.get(quantityOf(slot) as string)) return `slot ${slot}`
  return undefined
}
