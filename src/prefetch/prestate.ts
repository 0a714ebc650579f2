import { PRE_BLOCK_SYSTEM_ACCOUNTS } from './system-accounts.ts'

/** One account's state at the parent block, as far as the block's transactions touched it. */
export type ParentAccount = {
  /** Balance, nonce and code: known when the account was touched at all. */
  balance: string
  nonce: string
  code: string
  /** Storage slots (canonical hex quantity) to their 32-byte values. */
  storage: Map<string, string>
  /** The index of the transaction that first touched the account, and of the one that first touched each slot. */
  firstTouch: number
  slotFirstTouch: Map<string, number>
}

/** The parent block's state a block's transactions touched, by lower-case address. */
export type ParentState = Map<string, ParentAccount>

/** A prestate answer that does not fit: the whole prefetch is discarded (SPEC §14). */
export class MalformedPrestateError extends Error {
  override name = 'MalformedPrestateError'
}

/**
 * The parent block's state from the prestates of a block's transactions, in order (SPEC §14;
 * docs/decisions.md has the argument in full). A transaction's prestate holds every account and
 * slot it touches as they were just before it ran; every change a transaction makes goes through an
 * account or slot it touches. So the first transaction that touches a key saw it as the block's
 * transactions found it, which is the parent's state unless the block changed it before its first
 * transaction: those accounts (`PRE_BLOCK_SYSTEM_ACCOUNTS`) are left out.
 *
 * Storage needs one more condition where a transaction could wipe a pre-existing contract's
 * storage without touching its slots (SELFDESTRUCT before EIP-6780, Cancun): there, a slot is taken
 * only from the transaction that first touched its account. `wipesStorage` says whether the block
 * is such a block.
 */
export function parentStateOf(prestates: unknown[], { wipesStorage }: { wipesStorage: boolean }): ParentState {
  const state: ParentState = new Map()
  prestates.forEach((prestate, index) => {
    if (prestate === null || typeof prestate !== 'object' || Array.isArray(prestate))
      throw malformed('a prestate is not an object')
    for (const [rawAddress, rawAccount] of Object.entries(prestate)) {
      const address = readAddress(rawAddress)
      const account = readAccount(rawAccount)
      if (PRE_BLOCK_SYSTEM_ACCOUNTS.has(address)) continue
      let known = state.get(address)
      if (known === undefined) {
        known = { ...account, storage: new Map(), firstTouch: index, slotFirstTouch: new Map() }
        state.set(address, known)
      }
      if (wipesStorage && known.firstTouch !== index) continue
      for (const [slot, value] of account.storage)
        if (!known.storage.has(slot)) {
          known.storage.set(slot, value)
          known.slotFirstTouch.set(slot, index)
        }
    }
  })
  return state
}

/** The prestates of `debug_traceBlockBy*` with `prestateTracer`: one `{txHash?, result}` per transaction. */
export function prestatesOfBlockTrace(trace: unknown, transactions: number): unknown[] {
  if (!Array.isArray(trace) || trace.length !== transactions)
    throw malformed('a block trace with another number of transactions')
  return trace.map((entry) => {
    if (entry === null || typeof entry !== 'object' || !('result' in entry))
      throw malformed('a transaction trace without a result')
    return (entry as { result: unknown }).result
  })
}

const ADDRESS = /^0x[0-9a-fA-F]{40}$/
const QUANTITY = /^0x(0|[1-9a-fA-F][0-9a-fA-F]*)$/
const HEX_DATA = /^0x([0-9a-fA-F]{2})*$/
const WORD = /^0x[0-9a-fA-F]{1,64}$/

function readAddress(raw: string): string {
  if (!ADDRESS.test(raw)) throw malformed(`not an address: ${raw.slice(0, 50)}`)
  return raw.toLowerCase()
}

/** One account of a prestate, read strictly: the tracers leave out a zero nonce, empty code and no storage. */
function readAccount(raw: unknown): { balance: string; nonce: string; code: string; storage: [string, string][] } {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw malformed('an account is not an object')
  const { balance, nonce, code, storage } = raw as Record<string, unknown>
  if (typeof balance !== 'string' || !QUANTITY.test(balance))
    throw malformed('an account without a well-formed balance')
  return {
    balance: toQuantity(balance),
    nonce: readNonce(nonce),
    code: readCode(code),
    storage: readStorage(storage),
  }
}

function readNonce(nonce: unknown): string {
  if (nonce === undefined) return '0x0'
  if (typeof nonce === 'number' && Number.isSafeInteger(nonce) && nonce >= 0) return `0x${nonce.toString(16)}`
  if (typeof nonce === 'string' && QUANTITY.test(nonce)) return toQuantity(nonce)
  throw malformed('a nonce that is not a quantity')
}

function readCode(code: unknown): string {
  if (code === undefined) return '0x'
  if (typeof code === 'string' && HEX_DATA.test(code)) return code.toLowerCase()
  throw malformed('code that is not hex data')
}

function readStorage(storage: unknown): [string, string][] {
  if (storage === undefined) return []
  if (storage === null || typeof storage !== 'object' || Array.isArray(storage))
    throw malformed('storage is not an object')
  return Object.entries(storage).map(([slot, value]) => {
    if (!WORD.test(slot) || typeof value !== 'string' || !WORD.test(value))
      throw malformed('a storage entry that is not two words')
    return [toQuantity(slot), toWord(value)]
  })
}

/** A quantity in its canonical form (`0x0`, `0x1f`), as nodes answer balances and nonces. */
function toQuantity(hex: string): string {
  return `0x${BigInt(hex).toString(16)}`
}

/** A 32-byte word as `eth_getStorageAt` answers it. */
function toWord(hex: string): string {
  return `0x${hex.slice(2).toLowerCase().padStart(64, '0')}`
}

function malformed(message: string): MalformedPrestateError {
  return new MalformedPrestateError(`prestate not used: ${message}`)
}
