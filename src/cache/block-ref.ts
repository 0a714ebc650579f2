import { parseQuantity } from '../rpc/quantity.ts'

/**
 * Where a call's answer is pinned in the chain: a block hash (immutable), a block number (immutable
 * once final), or "now" (`latest`, `pending`, `safe`, `finalized`, omitted), which is never cached.
 */
export type BlockRef = { kind: 'hash'; hash: string } | { kind: 'number'; number: number } | { kind: 'now' }

const HASH = /^0x[0-9a-fA-F]{64}$/

/**
 * Read a block parameter: a quantity, a tag, a 32-byte hash, or an EIP-1898 object. `earliest` is
 * block 0. A `{blockHash, requireCanonical: true}` object depends on which chain is canonical, so
 * it counts as "now". Anything unreadable is "now" too: the node decides, and nothing is cached.
 */
export function toBlockRef(value: unknown): BlockRef {
  if (typeof value === 'string') {
    if (value === 'earliest') return { kind: 'number', number: 0 }
    if (HASH.test(value)) return { kind: 'hash', hash: value.toLowerCase() }
    return toNumberRef(value)
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const object = value as { blockHash?: unknown; blockNumber?: unknown; requireCanonical?: unknown }
    if (typeof object.blockHash === 'string' && object.blockNumber === undefined) {
      if (object.requireCanonical === true || !HASH.test(object.blockHash)) return NOW
      return { kind: 'hash', hash: object.blockHash.toLowerCase() }
    }
    if (object.blockHash === undefined && typeof object.blockNumber === 'string') return toBlockRef(object.blockNumber)
  }
  return NOW
}

/** A block quantity (`0x1`, leading zeros tolerated) as a number, or "now" when it is anything else. */
export function toNumberRef(value: unknown): BlockRef {
  if (value === 'earliest') return { kind: 'number', number: 0 }
  const number = parseQuantity(value)
  return number === undefined ? NOW : { kind: 'number', number }
}

/** The canonical text of a block reference inside a cache key (`"0x01"` and `"0x1"` are one block). */
export function blockRefKey(ref: BlockRef): string {
  if (ref.kind === 'hash') return ref.hash
  if (ref.kind === 'number') return `0x${ref.number.toString(16)}`
  return 'now'
}

const NOW: BlockRef = { kind: 'now' }
