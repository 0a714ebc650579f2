import { encode } from '@ethereumjs/rlp'
import { keccak256 } from '../util/keccak.ts'
import { bytesToHex, hexToBytes, quantityToBytes } from './bytes.ts'

/**
 * The header layouts a block hash is recomputed for (SPEC §15): the fields every header has, then
 * one group per fork that appended to it, in order. A layout is the longest run of groups whose
 * fields the block carries; a group present after a missing one is a layout not known here.
 */
const BASE = [
  ['parentHash', 'data'],
  ['sha3Uncles', 'data'],
  ['miner', 'data'],
  ['stateRoot', 'data'],
  ['transactionsRoot', 'data'],
  ['receiptsRoot', 'data'],
  ['logsBloom', 'data'],
  ['difficulty', 'quantity'],
  ['number', 'quantity'],
  ['gasLimit', 'quantity'],
  ['gasUsed', 'quantity'],
  ['timestamp', 'quantity'],
  ['extraData', 'data'],
  ['mixHash', 'data'],
  ['nonce', 'data'],
] as const
type Field = readonly [name: string, kind: 'data' | 'quantity']
/** Fork by fork (EIP-1559, EIP-4895, EIP-4844 with EIP-4788, EIP-7685, EIP-7928): what each appended. */
const FORKS: readonly (readonly [fork: string, fields: readonly Field[]])[] = [
  ['london', [['baseFeePerGas', 'quantity']]],
  ['shanghai', [['withdrawalsRoot', 'data']]],
  [
    'cancun',
    [
      ['blobGasUsed', 'quantity'],
      ['excessBlobGas', 'quantity'],
      ['parentBeaconBlockRoot', 'data'],
    ],
  ],
  ['prague', [['requestsHash', 'data']]],
  ['amsterdam', [['blockAccessListHash', 'data']]],
]
/** The fields a fork group is recognised by (blob fields alone appear on some nodes' older headers, outside the hash). */
const MARKERS: Record<string, string> = {
  london: 'baseFeePerGas',
  shanghai: 'withdrawalsRoot',
  cancun: 'parentBeaconBlockRoot',
  prague: 'requestsHash',
  amsterdam: 'blockAccessListHash',
}
/** Keys of a block answer that are not header fields (the body, and what nodes add about it). */
const NOT_HEADER = new Set([
  'hash',
  'size',
  'totalDifficulty',
  'transactions',
  'uncles',
  'withdrawals',
  'blobGasUsed',
  'excessBlobGas',
  'sealFields',
  'author',
])
const KNOWN = new Set([...BASE.map(([name]) => name), ...FORKS.flatMap(([, fields]) => fields.map(([name]) => name))])

/** The header's layout by its newest fork group (`legacy`: before London), or undefined when it is not one known here. */
export function headerLayout(block: Record<string, unknown>): string | undefined {
  for (const key of Object.keys(block)) if (!KNOWN.has(key) && !NOT_HEADER.has(key)) return undefined
  let layout = 'legacy'
  let ended = false
  for (const [fork] of FORKS) {
    const present = block[MARKERS[fork] as string] !== undefined && block[MARKERS[fork] as string] !== null
    if (present && ended) return undefined
    if (present) layout = fork
    else ended = true
  }
  return layout
}

/**
 * `keccak(rlp(header))` of a block answer, recomputed from its fields, or undefined when its layout
 * is not known here (counted by the caller, never guessed) or a field is malformed.
 */
export function recomputeBlockHash(block: unknown): string | undefined {
  const recomputed = recompute(block)
  return recomputed === 'unknown-layout' || recomputed === 'malformed' ? undefined : recomputed
}

/** The recomputed hash; `unknown-layout`, or `malformed` when a field of a known layout is not what it must be. */
function recompute(block: unknown): string | 'unknown-layout' | 'malformed' {
  if (block === null || typeof block !== 'object' || Array.isArray(block)) return 'malformed'
  const header = block as Record<string, unknown>
  const layout = headerLayout(header)
  if (layout === undefined) return 'unknown-layout'
  const fields: Field[] = [...BASE]
  for (const [fork, added] of FORKS) {
    if (layout === 'legacy') break
    fields.push(...added)
    if (fork === layout) break
  }
  const items: Uint8Array[] = []
  for (const [name, kind] of fields) {
    const value = header[name]
    // A field left out is a layout not known here (some chains' answers omit one); one written wrong is malformed.
    if (value === undefined || value === null) return 'unknown-layout'
    if (typeof value !== 'string') return 'malformed'
    const bytes = kind === 'data' ? hexToBytes(value) : quantityToBytes(value)
    if (bytes === undefined) return 'malformed'
    items.push(bytes)
  }
  return bytesToHex(keccak256(encode(items)))
}

/** Block answers whose header layout is not known here, since start (SPEC §15: counted, not guessed). */
export const headerLayouts = { unknown: 0 }

/** What is wrong with a block answer's header: its hash is not `keccak(rlp(header))`; undefined when it is, or its layout is unknown. */
export function headerMismatch(block: Record<string, unknown>): string | undefined {
  const recomputed = recompute(block)
  if (recomputed === 'unknown-layout') {
    headerLayouts.unknown += 1
    return undefined
  }
  // A field of a known layout that is not what it must be: a header that cannot be checked is not taken.
  if (recomputed === 'malformed') return 'a header field that is not well formed'
  return recomputed === String(block.hash).toLowerCase() ? undefined : 'its hash is not the hash of its header'
}
