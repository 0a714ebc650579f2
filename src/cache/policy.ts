import { methodInfo, pinOf } from '../rpc/methods.ts'
import { type BlockRef, blockRefKey, toBlockRef, toNumberRef } from './block-ref.ts'
import { canonicalJson } from './canonical-json.ts'

/** What a stored answer depends on, decided from the call alone. */
export type Anchor =
  | { kind: 'immutable' }
  | { kind: 'block'; number: number }
  | { kind: 'tx'; hash: string; blockInResult: boolean }

/**
 * A call that may be cached: its canonical key, what its answer is anchored to, and its params as
 * the key means them (block numbers canonical, hashes lowercase): what is forwarded, so that calls
 * sharing a key ask the upstream the same question.
 */
export type CachePlan = { key: string; method: string; anchor: Anchor; params: unknown[] }

/** What to do with an answer once it arrived: store it, drop it, or store it once a block is final. */
export type StoreVerdict =
  | { kind: 'store' }
  | { kind: 'skip' }
  | { kind: 'when-final'; block: number }
  | { kind: 'when-tx-final'; hash: string }

const TX_HASH = /^0x[0-9a-fA-F]{64}$/

/**
 * Decide whether a call may be cached and build its key (SPEC §5.2): the method and its params with
 * object keys sorted and the block parameter normalized, so `"0x01"` and `"0x1"` share an entry.
 * Calls pinned to "now" (tags, omitted blocks, open log ranges) get no plan.
 */
export function planCall(method: string, params: unknown): CachePlan | undefined {
  const pin = pinOf(method)
  if (pin === undefined) return undefined
  const list = params === undefined ? [] : params
  if (!Array.isArray(list)) return undefined
  switch (pin.kind) {
    case 'static':
      return { key: `${method}:[]`, method, anchor: { kind: 'immutable' }, params: [] }
    case 'block':
    case 'block-hash': {
      const original = list[pin.index]
      const ref = toBlockRef(original)
      if (ref.kind === 'now' || (pin.kind === 'block-hash' && ref.kind !== 'hash')) return undefined
      // An EIP-1898 object stays an object (a node that rejects it for this method must not share the plain form's answer).
      const pinned =
        typeof original === 'string'
          ? blockRefKey(ref)
          : { ...(original as object), [ref.kind === 'hash' ? 'blockHash' : 'blockNumber']: blockRefKey(ref) }
      return { ...keyWith(method, list, pin.index, pinned, stateKeyParams), method, anchor: anchorOf(ref) }
    }
    case 'tx': {
      const hash = list[pin.index]
      if (typeof hash !== 'string' || !TX_HASH.test(hash)) return undefined
      const normalized = hash.toLowerCase()
      return {
        ...keyWith(method, list, pin.index, normalized),
        method,
        anchor: { kind: 'tx', hash: normalized, blockInResult: pin.blockInResult },
      }
    }
    case 'logs':
      return planLogs(method, list)
  }
}

/** Decide what to do with a successful answer (errors never reach here: they are never stored). */
export function verdictFor(plan: CachePlan, resultJson: string): StoreVerdict {
  // SPEC §5.1: null ("not found yet") is never stored.
  if (resultJson === 'null') return { kind: 'skip' }
  const anchor = plan.anchor
  if (anchor.kind === 'immutable') return { kind: 'store' }
  if (anchor.kind === 'block') return { kind: 'when-final', block: anchor.number }
  if (!anchor.blockInResult) return { kind: 'when-tx-final', hash: anchor.hash }
  const blockNumber = blockNumberOf(resultJson)
  return blockNumber === undefined ? { kind: 'skip' } : { kind: 'when-final', block: blockNumber }
}

/** The `blockNumber` of a mined transaction or receipt, or undefined while pending. */
export function blockNumberOf(resultJson: string): number | undefined {
  const result: unknown = JSON.parse(resultJson)
  if (result === null || typeof result !== 'object') return undefined
  const ref = toNumberRef((result as { blockNumber?: unknown }).blockNumber)
  return ref.kind === 'number' ? ref.number : undefined
}

function planLogs(method: string, list: unknown[]): CachePlan | undefined {
  const filter = list[0]
  if (list.length !== 1 || filter === null || typeof filter !== 'object' || Array.isArray(filter)) return undefined
  const { blockHash, fromBlock, toBlock, ...rest } = filter as Record<string, unknown>
  if (blockHash !== undefined) {
    const ref = toBlockRef(blockHash)
    if (typeof blockHash !== 'string' || ref.kind !== 'hash' || fromBlock !== undefined || toBlock !== undefined)
      return undefined
    const params = [{ ...rest, blockHash: ref.hash }]
    return { key: `${method}:${canonicalJson(params)}`, method, anchor: { kind: 'immutable' }, params }
  }
  // Filter bounds are quantities or tags, never EIP-1898 objects.
  if (typeof fromBlock !== 'string' || typeof toBlock !== 'string') return undefined
  const from = toBlockRef(fromBlock)
  const to = toBlockRef(toBlock)
  // SPEC §5.1: only an explicit, closed range of numbers can be final.
  if (from.kind !== 'number' || to.kind !== 'number' || from.number > to.number) return undefined
  const params = [{ ...rest, fromBlock: blockRefKey(from), toBlock: blockRefKey(to) }]
  return { key: `${method}:${canonicalJson(params)}`, method, anchor: { kind: 'block', number: to.number }, params }
}

function keyWith(
  method: string,
  list: unknown[],
  index: number,
  pinned: unknown,
  forKey: (method: string, params: unknown[]) => unknown[] = same,
): { key: string; params: unknown[] } {
  const params = list.slice()
  params[index] = pinned
  return { key: `${method}:${canonicalJson(forKey(method, params))}`, params }
}

const same = (_method: string, params: unknown[]) => params

/**
 * SPEC §5.2: in a state read's key, an address compares case-insensitively and a storage slot as a
 * number (`"0x3e8"` and its 32-byte form are one slot), so an answer the proxy stored itself (a
 * prefetch, a composed method) is found by whatever spelling a client uses. What is forwarded stays
 * as the client wrote it.
 */
function stateKeyParams(method: string, params: unknown[]): unknown[] {
  const { account, slot, slotMap } = methodInfo(method)
  if (slotMap !== undefined) return params.map((param, index) => (index === slotMap ? slotMapKey(param) : param))
  if (account === undefined) return params
  const keyed = params.slice()
  if (typeof keyed[account] === 'string') keyed[account] = (keyed[account] as string).toLowerCase()
  if (slot !== undefined) {
    const value = keyed[slot.index]
    keyed[slot.index] = slot.list && Array.isArray(value) ? value.map(slotKey) : slotKey(value)
  }
  return keyed
}

/** `{address: [slots]}` with addresses in lower case and slots as numbers (an object key's order does not matter). */
function slotMapKey(map: unknown): unknown {
  if (map === null || typeof map !== 'object' || Array.isArray(map)) return map
  return Object.fromEntries(
    Object.entries(map).map(([address, slots]) => [
      address.toLowerCase(),
      Array.isArray(slots) ? slots.map(slotKey) : slots,
    ]),
  )
}

/** A slot as a number's canonical hex, when it reads as one; anything else as given (never stored under a shared key). */
function slotKey(slot: unknown): unknown {
  if (typeof slot !== 'string' || !HEX_SLOT.test(slot)) return slot
  return `0x${BigInt(slot).toString(16)}`
}

const HEX_SLOT = /^0x[0-9a-fA-F]{1,64}$/

function anchorOf(ref: BlockRef): Anchor {
  return ref.kind === 'number' ? { kind: 'block', number: ref.number } : { kind: 'immutable' }
}
