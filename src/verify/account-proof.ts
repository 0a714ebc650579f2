import { decode } from '@ethereumjs/rlp'
import { keccak256 } from '../util/keccak.ts'
import { bytesToHex, bytesToQuantity, hexToBytes } from './bytes.ts'

/** An account as its state root holds it; `undefined` in a result: the proof shows it is absent. */
export type ProvenAccount = { nonce: string; balance: string; storageRoot: string; codeHash: string }

/** What one `eth_getProof` answer proves against a state root: the account (or its absence) and each slot asked. */
export type ProvenState = { account: ProvenAccount | undefined; storage: Map<string, string> }

/** The root of an empty trie, and the hash of empty code (an account with neither storage nor code). */
export const EMPTY_TRIE_ROOT = bytesToHex(keccak256(Uint8Array.of(0x80)))
export const EMPTY_CODE_HASH = bytesToHex(keccak256(new Uint8Array()))

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
export function verifyAccountProof(stateRoot: string, address: string, answer: unknown): ProvenState {
  try {
    return verified(stateRoot, address, answer)
  } catch (error) {
    // Whatever a malformed answer breaks (RLP, shapes), it proves nothing: the provider's fault, never a crash.
    if (error instanceof ProofError) throw error
    throw new ProofError(`a malformed proof (${(error as Error).message})`)
  }
}

function verified(stateRoot: string, address: string, answer: unknown): ProvenState {
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
  const accountRlp = walk(stateRoot, keccak256(addressBytes), proof.accountProof)
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
  // An absent account's answer may write its empty roots or zeros (nodes differ); nothing else.
  const zero = `0x${'0'.repeat(64)}`
  const sameRoot = stated.storageRoot === expected.storageRoot || (account === undefined && stated.storageRoot === zero)
  const sameCode = stated.codeHash === expected.codeHash || (account === undefined && stated.codeHash === zero)
  if (!sameRoot || !sameCode) throw new ProofError('the stated storage root or code hash is not the proven one')
  const storage = new Map<string, string>()
  if (!Array.isArray(proof.storageProof)) throw new ProofError('no storage proofs')
  for (const entry of proof.storageProof as { key?: unknown; value?: unknown; proof?: unknown }[]) {
    const slot = quantityOf(entry?.key)
    const slotBytes = slotKey(entry?.key)
    if (slot === undefined || slotBytes === undefined) throw new ProofError('a storage proof without a slot')
    const root = account?.storageRoot ?? EMPTY_TRIE_ROOT
    const valueRlp = root === EMPTY_TRIE_ROOT ? undefined : walk(root, keccak256(slotBytes), entry.proof)
    const value = valueRlp === undefined ? '0x0' : bytesToQuantity(decode(valueRlp) as Uint8Array)
    if (quantityOf(entry.value) !== value) throw new ProofError(`slot ${slot}: the stated value is not the proven one`)
    storage.set(slot, value)
  }
  return { account, storage }
}

/**
 * The value at `key` (a 32-byte trie key) under `root`, from the proof's nodes, or undefined when
 * they show it absent; `ProofError` when they prove nothing. Each node must hash to the reference
 * its parent holds (the first to the root); a branch takes the key's next nibble, an extension or a
 * leaf its hex-prefix path. A child under 32 bytes is embedded in its parent, not a node of its own.
 */
function walk(root: string, key: Uint8Array, nodes: unknown): Uint8Array | undefined {
  if (!Array.isArray(nodes)) throw new ProofError('no proof nodes')
  const { value, used } = walkNodes(root, key, nodes)
  // Nodes past the end prove nothing: a proof that carries them is not the node's (nor stored as proven).
  if (used !== nodes.length) throw new ProofError('nodes past the end of the proof')
  return value
}

function walkNodes(root: string, key: Uint8Array, nodes: unknown[]): { value: Uint8Array | undefined; used: number } {
  const nibbles = toNibbles(key)
  let reference: Reference = hexToBytes(root) ?? new Uint8Array()
  if (reference.length !== 32) throw new ProofError('not a root hash')
  let position = 0
  let next = 0
  for (;;) {
    let node: Reference
    if (reference instanceof Uint8Array) {
      if (reference.length === 0) return { value: undefined, used: next }
      if (reference.length !== 32) throw new ProofError('a reference that is neither a hash nor a node')
      const known = typeof nodes[next] === 'string' ? knownNode(nodes[next] as string) : undefined
      next += 1
      if (known === undefined) throw new ProofError('the proof ends before the key, or a node is not hex')
      if (!sameBytes(known.hash, reference)) throw new ProofError('a node does not hash to its reference')
      remember(nodes[next - 1] as string, known)
      node = known.node
    } else node = reference
    if (!Array.isArray(node)) throw new ProofError('a node that is not a list')
    if (node.length === 17) {
      if (position === nibbles.length) return { value: nonEmpty(node[16]), used: next }
      reference = node[nibbles[position] as number] as Reference
      position += 1
      continue
    }
    if (node.length !== 2 || !(node[0] instanceof Uint8Array))
      throw new ProofError('a node that is neither branch, extension nor leaf')
    const path = pathOf(node[0], nibbles, position)
    if (path.leaf) {
      // A leaf for another key where this one would be: the proof of its absence.
      if (!path.matches || position + path.length !== nibbles.length) return { value: undefined, used: next }
      if (!(node[1] instanceof Uint8Array)) throw new ProofError('a leaf whose value is not bytes')
      return { value: node[1], used: next }
    }
    if (!path.matches) return { value: undefined, used: next }
    position += path.length
    reference = node[1] as Reference
  }
}

/**
 * Proof nodes already hashed and decoded, by their text. The proofs of one block share their top
 * nodes (every account proof starts at the same root), so a prefetch's hundreds of proofs hash
 * and decode each shared node once. Bounded; the oldest go first.
 */
const nodes = new Map<string, { hash: Uint8Array; node: Reference }>()
const MAX_NODES = 4_096
/** A trie node is at most 17 references of 32 bytes: about 1,100 hex characters. */
const MAX_NODE_TEXT = 1_200

function knownNode(text: string): { hash: Uint8Array; node: Reference } | undefined {
  const found = nodes.get(text)
  if (found !== undefined) return found
  const raw = hexToBytes(text)
  if (raw === undefined) return undefined
  return { hash: keccak256(raw), node: decodeNode(raw) }
}

/** Forget the nodes of these proofs (the warm-up's: it must leave the memory as it found it). */
export function forgetProofNodes(texts: Iterable<string>): void {
  for (const text of texts) nodes.delete(text)
}

/** Keep a node whose hash matched its reference (never one that did not: a liar cannot fill the memory). */
function remember(text: string, known: { hash: Uint8Array; node: Reference }): void {
  if (nodes.has(text) || text.length > MAX_NODE_TEXT) return
  if (nodes.size >= MAX_NODES) nodes.delete(nodes.keys().next().value as string)
  nodes.set(text, known)
}

/** A child reference as RLP gives it: a hash (or nothing) as bytes, or a node embedded as a list. */
type Reference = Uint8Array | Reference[]

function decodeNode(raw: Uint8Array): Reference {
  try {
    return decode(raw) as Reference
  } catch {
    throw new ProofError('a node that is not RLP')
  }
}

function nonEmpty(value: Reference | undefined): Uint8Array | undefined {
  return value instanceof Uint8Array && value.length > 0 ? value : undefined
}

/** A key's nibbles, high first. */
function toNibbles(key: Uint8Array): number[] {
  const nibbles = new Array<number>(key.length * 2)
  for (let index = 0; index < key.length; index++) {
    const byte = key[index] as number
    nibbles[index * 2] = byte >> 4
    nibbles[index * 2 + 1] = byte & 0x0f
  }
  return nibbles
}

/**
 * A node's hex-prefix path (Yellow Paper appendix C: the first nibble says leaf or extension, and
 * odd or even length) against the key's nibbles from `position`: its length, and whether they match.
 */
function pathOf(
  encoded: Uint8Array,
  nibbles: number[],
  position: number,
): { length: number; leaf: boolean; matches: boolean } {
  const flag = (encoded[0] ?? 0) >> 4
  if (flag > 3) throw new ProofError('a path that is not hex-prefix encoded')
  const odd = flag % 2 === 1
  const length = encoded.length * 2 - (odd ? 1 : 2)
  let matches = position + length <= nibbles.length
  for (let offset = 0; matches && offset < length; offset++) {
    const at = offset + (odd ? 1 : 2)
    const byte = encoded[at >> 1] as number
    matches = nibbles[position + offset] === (at % 2 === 0 ? byte >> 4 : byte & 0x0f)
  }
  return { length, leaf: flag >= 2, matches }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let index = 0; index < a.length; index++) if (a[index] !== b[index]) return false
  return true
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

const QUANTITY_TEXT = /^0x[0-9a-fA-F]+$/

/** A quantity in its canonical form (`0x0`, lower case, no leading zeros), or undefined. */
export function quantityOf(value: unknown): string | undefined {
  if (typeof value !== 'string' || !QUANTITY_TEXT.test(value)) return undefined
  let start = 2
  while (start < value.length - 1 && value.charCodeAt(start) === 0x30) start++
  return `0x${value.slice(start).toLowerCase()}`
}

/** A storage slot as the 32 bytes its trie key is hashed from (a slot may be written short: `0x0`). */
function slotKey(value: unknown): Uint8Array | undefined {
  if (typeof value !== 'string' || !/^0x[0-9a-fA-F]{1,64}$/.test(value)) return undefined
  return hexToBytes(`0x${value.slice(2).padStart(64, '0')}`)
}
