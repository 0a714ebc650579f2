import { historyNeedOf } from '../rpc/history-need.ts'
import { methodInfo } from '../rpc/methods.ts'
import type { RpcCall } from '../rpc/types.ts'
import { keccak256 } from '../util/keccak.ts'
import { EMPTY_CODE_HASH, type ProvenState, quantityOf } from './account-proof.ts'
import { bytesToHex, hexToBytes } from './bytes.ts'

/** One `eth_getProof` a claim needs: an account (lower case) and its slots, each as 32 bytes as nodes take them. */
export type ProofRequest = { address: string; slots: string[] }

/**
 * What a state answer claims, and how it is held against what the proofs show (SPEC §15): the
 * block, the proofs it needs (one per account, covering the fields and the slots asked of it), and
 * a comparison of an answer with the proven state (undefined when they agree, else what differs).
 */
export type StateClaims = {
  block: number
  requests: ProofRequest[]
  compare(answer: unknown, proven: ReadonlyMap<string, ProvenState>): string | undefined
}

/** The claims of a state call at a block number (balance, nonce, code, storage, account info, storage values); undefined for any other call. */
export function claimsOf(call: RpcCall): StateClaims | undefined {
  const info = methodInfo(call.method)
  if (info.history !== 'state' || !Array.isArray(call.params) || info.pin?.kind !== 'block') return undefined
  const block = historyNeedOf(call)?.block
  if (block === undefined) return undefined
  if (info.slotMap !== undefined) return storageValuesClaims(call.params[info.slotMap], block)
  if (info.account === undefined) return undefined
  const address = addressOf(call.params[info.account])
  if (address === undefined) return undefined
  if (info.slot !== undefined && info.slot.list !== true) {
    const slot = slotWord(call.params[info.slot.index])
    if (slot === undefined) return undefined
    return {
      block,
      requests: [{ address, slots: [slot] }],
      compare: (answer, proven) => sameWord(answer, proven.get(address)?.storage.get(quantityOf(slot) as string)),
    }
  }
  const field = info.accountField
  return {
    block,
    requests: [{ address, slots: [] }],
    compare: (answer, proven) => {
      const state = proven.get(address)
      if (state === undefined) return 'no proof'
      if (field !== undefined) return sameField(field, field === 'code' ? answer : quantityOf(answer), state)
      // eth_getAccountInfo: {balance, nonce, code}.
      const whole = answer as { balance?: unknown; nonce?: unknown; code?: unknown } | null
      if (whole === null || typeof whole !== 'object') return 'not an account'
      if (Object.keys(whole).some((key) => key !== 'balance' && key !== 'nonce' && key !== 'code'))
        return 'fields that are not proven'
      return (
        sameField('balance', quantityOf(whole.balance), state) ??
        sameField('nonce', quantityOf(whole.nonce), state) ??
        sameField('code', whole.code, state)
      )
    },
  }
}

/** `eth_getStorageValues({address: [slots]}, block)`: one proof per address, its answer the slots' values in order. */
function storageValuesClaims(map: unknown, block: number): StateClaims | undefined {
  if (map === null || typeof map !== 'object' || Array.isArray(map)) return undefined
  const requests: ProofRequest[] = []
  for (const [raw, slots] of Object.entries(map)) {
    const address = addressOf(raw)
    const words = Array.isArray(slots) ? slots.map(slotWord) : []
    if (address === undefined || !Array.isArray(slots) || words.some((word) => word === undefined)) return undefined
    // One address written twice (in two cases) is a question this reading does not judge.
    if (requests.some((request) => request.address === address)) return undefined
    requests.push({ address, slots: words as string[] })
  }
  return {
    block,
    requests,
    compare: (answer, proven) => {
      if (answer === null || typeof answer !== 'object') return 'not a map of values'
      const byAddress = new Map(Object.entries(answer).map(([address, values]) => [address.toLowerCase(), values]))
      if (byAddress.size !== requests.length) return 'accounts that were not asked for'
      for (const { address, slots } of requests) {
        const values = byAddress.get(address)
        if (!Array.isArray(values) || values.length !== slots.length) return `no values for ${address}`
        for (const [index, slot] of slots.entries()) {
          const differs = sameWord(values[index], proven.get(address)?.storage.get(quantityOf(slot) as string))
          if (differs !== undefined) return differs
        }
      }
      return undefined
    },
  }
}

function sameField(field: 'balance' | 'nonce' | 'code', value: unknown, state: ProvenState): string | undefined {
  if (field === 'code') {
    const bytes = typeof value === 'string' ? hexToBytes(value) : undefined
    if (bytes === undefined) return 'code that is not hex'
    const hash = bytes.length === 0 ? EMPTY_CODE_HASH : bytesToHex(keccak256(bytes))
    return hash === (state.account?.codeHash ?? EMPTY_CODE_HASH) ? undefined : 'code whose hash is not the proven one'
  }
  const proven = state.account?.[field] ?? '0x0'
  return value === proven ? undefined : `a ${field} that is not the proven one`
}

/** A storage word (32 bytes, or a quantity) against the proven value. */
function sameWord(answer: unknown, proven: string | undefined): string | undefined {
  if (proven === undefined) return 'no proof of the slot'
  return quantityOf(answer) === proven ? undefined : 'a storage value that is not the proven one'
}

const ADDRESS = /^0x[0-9a-fA-F]{40}$/

function addressOf(value: unknown): string | undefined {
  return typeof value === 'string' && ADDRESS.test(value) ? value.toLowerCase() : undefined
}

/** A slot as nodes take it in `eth_getProof`: 32 bytes (anvil refuses `0x0`). */
export function slotWord(value: unknown): string | undefined {
  if (typeof value !== 'string' || !/^0x[0-9a-fA-F]{1,64}$/.test(value)) return undefined
  return `0x${value.slice(2).padStart(64, '0').toLowerCase()}`
}
