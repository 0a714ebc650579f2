import { verifyMerkleProof } from '@ethereumjs/mpt'
import { decode } from '@ethereumjs/rlp'
import { keccak_256 } from '@noble/hashes/sha3'
import { bytesToHex, bytesToQuantity, hexToBytes, quantityToBytes } from './bytes.ts'

/** An account as its state root holds it; `undefined` in a result: the proof shows it is absent. */
export type ProvenAccount = { nonce: string; balance: string; storageRoot: string; codeHash: string }

/** What one `eth_getProof` answer proves against a state root: the account (or its absence) and each slot asked. */
export type ProvenState = { account: ProvenAccount | undefined; storage: Map<string, string> }

/** The root of an empty trie, and the hash of empty code (an account with neither storage nor code). */
export const EMPTY_TRIE_ROOT = bytesToHex(keccak_256(Uint8Array.of(0x80)))
export const EMPTY_CODE_HASH = bytesToHex(keccak_256(new Uint8Array()))

/** The proof does not prove what it claims against the root: the provider that gave it is at fault. */
export class ProofError extends Error {
  override name = 'ProofError'
}

/**
 * Verify an `eth_getProof` answer (EIP-1186) against a trusted state root: the account proof leads
 * from the root to the account's RLP (or proves it absent), and each storage proof leads from the
 * account's storage root to the slot's value (or proves it zero). The account fields the answer
 * states must be the ones proven. Throws `ProofError`; returns what was proven, keyed by slot as a
 * quantity (`0x0`), values as quantities.
 */
export async function verifyAccountProof(stateRoot: string, address: string, answer: unknown): Promise<ProvenState> {
  const proof = answer as {
    accountProof?: unknown
    storageHash?: unknown
    storageProof?: unknown
    balance?: unknown
    nonce?: unknown
    codeHash?: unknown
  }
  const addressBytes = hexToBytes(address.toLowerCase())
  if (addressBytes === undefined || addressBytes.length !== 20) throw new ProofError('not an address')
  const accountRlp = await walk(stateRoot, keccak_256(addressBytes), proof.accountProof)
  const account = accountRlp === undefined ? undefined : decodeAccount(accountRlp)
  // The fields the answer states beside the proof must be the proven ones (an absent account states zeros).
  const stated = {
    nonce: quantityOf(proof.nonce),
    balance: quantityOf(proof.balance),
    storageRoot: String(proof.storageHash).toLowerCase(),
    codeHash: String(proof.codeHash).toLowerCase(),
  }
  const expected = account ?? { nonce: '0x0', balance: '0x0', storageRoot: EMPTY_TRIE_ROOT, codeHash: EMPTY_CODE_HASH }
  if (stated.nonce !== expected.nonce || stated.balance !== expected.balance)
    throw new ProofError('the stated balance or nonce is not the proven one')
  if (account !== undefined && (stated.storageRoot !== expected.storageRoot || stated.codeHash !== expected.codeHash))
    throw new ProofError('the stated storage root or code hash is not the proven one')
  const storage = new Map<string, string>()
  if (!Array.isArray(proof.storageProof)) throw new ProofError('no storage proofs')
  for (const entry of proof.storageProof as { key?: unknown; value?: unknown; proof?: unknown }[]) {
    const slot = quantityOf(entry?.key)
    const slotBytes = slotKey(entry?.key)
    if (slot === undefined || slotBytes === undefined) throw new ProofError('a storage proof without a slot')
    const root = account?.storageRoot ?? EMPTY_TRIE_ROOT
    const valueRlp = root === EMPTY_TRIE_ROOT ? undefined : await walk(root, keccak_256(slotBytes), entry.proof)
    const value = valueRlp === undefined ? '0x0' : bytesToQuantity(decode(valueRlp) as Uint8Array)
    if (quantityOf(entry.value) !== value) throw new ProofError(`slot ${slot}: the stated value is not the proven one`)
    storage.set(slot, value)
  }
  return { account, storage }
}

/** The value at `key` under `root`, undefined when the proof shows it absent; `ProofError` when it proves nothing. */
async function walk(root: string, key: Uint8Array, nodes: unknown): Promise<Uint8Array | undefined> {
  if (!Array.isArray(nodes)) throw new ProofError('no proof nodes')
  const proof: Uint8Array[] = []
  for (const node of nodes) {
    const bytes = typeof node === 'string' ? hexToBytes(node) : undefined
    if (bytes === undefined) throw new ProofError('a proof node that is not hex')
    proof.push(bytes)
  }
  const rootBytes = hexToBytes(root)
  if (rootBytes === undefined || rootBytes.length !== 32) throw new ProofError('not a root hash')
  try {
    const value = await verifyMerkleProof(key, proof, { root: rootBytes, useKeyHashing: false })
    return value ?? undefined
  } catch {
    throw new ProofError('the proof does not lead from the root')
  }
}

function decodeAccount(rlp: Uint8Array): ProvenAccount {
  const fields = decode(rlp)
  if (!Array.isArray(fields) || fields.length !== 4) throw new ProofError('an account that is not four fields')
  const [nonce, balance, storageRoot, codeHash] = fields as Uint8Array[]
  return {
    nonce: bytesToQuantity(nonce as Uint8Array),
    balance: bytesToQuantity(balance as Uint8Array),
    storageRoot: bytesToHex(storageRoot as Uint8Array),
    codeHash: bytesToHex(codeHash as Uint8Array),
  }
}

/** A quantity in its canonical form (`0x0`, no leading zeros), or undefined. */
export function quantityOf(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined
  const bytes = quantityToBytes(value)
  return bytes === undefined ? undefined : bytesToQuantity(bytes)
}

/** A storage slot as the 32 bytes its trie key is hashed from (a slot may be written short: `0x0`). */
function slotKey(value: unknown): Uint8Array | undefined {
  if (typeof value !== 'string' || !/^0x[0-9a-fA-F]{1,64}$/.test(value)) return undefined
  return hexToBytes(`0x${value.slice(2).padStart(64, '0')}`)
}
