import type { AnswerCheck } from '../rpc/answer-check.ts'
import { methodInfo } from '../rpc/methods.ts'
import { toQuantity } from '../rpc/quantity.ts'
import type { Outcome, RpcCall } from '../rpc/types.ts'
import { ProofError, type ProvenState, quantityOf, verifyAccountProof } from './account-proof.ts'
import { claimsOf, type ProofRequest, type StateClaims } from './state-claims.ts'
import type { StateRoots } from './state-roots.ts'

/** `--verify-state` (SPEC §15). */
export type VerifyMode = 'when-possible' | 'required' | 'off'

/**
 * What a state answer came to: proven against the chain, or not provable (no proof to be had, no
 * trusted root). `refused`: every proof offered failed to verify (those providers struck); the
 * answer itself is unjudged, so it is handled as `none`: kept locally, never shared.
 */
export type Verified = 'proof' | 'none' | 'refused'

/** Answers by method: proven, not provable, failed their proof (SPEC §15, for `/metrics` and `edb_cache_stats`). */
export type VerificationCounts = Record<string, { verified: number; unverifiable: number; failed: number }>

/** One state answer being verified: the check the forwarder runs on each attempt's answer, and what it came to. */
export type Verifying = { check: AnswerCheck; readonly verified: Verified }

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

/** Sends a proof call upstream with an answer check (the forwarder, within the client's batch). */
export type ProofSender = (call: RpcCall, check: AnswerCheck) => Promise<Outcome>

/** Every proof offered for an account failed to verify. */
const REFUSED = Symbol('refused')
type Proving = ProvenState | typeof REFUSED | undefined

/** Proofs remembered (a replay touches a few hundred accounts of one block). */
const MAX_PROOFS = 8_192
const MAX_REMEMBERED_SLOTS = 16

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

  /**
   * Proofs asked, by block, account and slots, and by block and account (any proof of an account
   * proves its fields): one `eth_getProof` per account serves its balance, nonce and code reads.
   * A proof that could not be had is forgotten, to be asked again.
   */
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

  return {
    mode,
    begin(call, isFinal, send) {
      if (mode === 'off' || !applies()) return undefined
      if (call.method === 'eth_getProof') return ownProof(call, isFinal)
      const claims = claimsOf(call)
      if (claims === undefined || !isFinal(claims.block)) return undefined
      const root = roots.rootOf(claims.block)
      const proofs = Promise.all(claims.requests.map((request) => prove(request, claims.block, root, send))).then(
        (states) => {
          if (states.includes(REFUSED)) return REFUSED
          const byAddress = new Map<string, ProvenState>()
          for (const [index, state] of states.entries()) {
            if (state === undefined || state === REFUSED) return undefined
            byAddress.set((claims.requests[index] as ProofRequest).address, state)
          }
          return byAddress
        },
      )
      const verifying = {
        verified: 'none' as Verified,
        check: async (value: unknown) => {
          const proven = await proofs
          if (proven === undefined || proven === REFUSED) {
            verifying.verified = proven === REFUSED ? 'refused' : 'none'
            count(call.method, proven === REFUSED ? 'failed' : 'unverifiable')
            return undefined
          }
          const differs = claims.compare(value, proven)
          if (differs !== undefined) {
            count(call.method, 'failed')
            return differs
          }
          verifying.verified = 'proof'
          count(call.method, 'verified')
          return undefined
        },
      }
      return verifying
    },
    async proveAccounts(accounts, block, send) {
      if (mode === 'off' || !applies()) return undefined
      const root = roots.rootOf(block)
      const proofs = await Promise.all(
        accounts.map((account) =>
          prove(
            { address: account.address.toLowerCase(), slots: [...account.storage.keys()].map(word) },
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

  /** A client's own `eth_getProof` is state too: its answer is verified as it is, no second call. */
  function ownProof(call: RpcCall, isFinal: (block: number) => boolean): Verifying | undefined {
    const [address, , tag] = Array.isArray(call.params) ? call.params : []
    const block = typeof tag === 'string' ? Number.parseInt(tag, 16) : Number.NaN
    if (typeof address !== 'string' || !Number.isSafeInteger(block) || !/^0x[0-9a-fA-F]+$/.test(String(tag)))
      return undefined
    if (!isFinal(block)) return undefined
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
          if (slots.some((slot) => !proven.storage.has(slot as string)))
            throw new ProofError('a slot asked has no proof')
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

/** A slot as 32 bytes, as nodes take it in `eth_getProof`. */
function word(slot: string): string {
  return `0x${slot.slice(2).padStart(64, '0').toLowerCase()}`
}
