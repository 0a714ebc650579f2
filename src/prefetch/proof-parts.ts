import type { ParentAccount, ParentState } from './prestate.ts'

/** What one part of a prefetch holds of an account: its fields (in the part of the transaction that first touched it), some of its slots. */
export type PartAccount = { address: string; account: ParentAccount; fields: boolean; slots: string[] }

/** Most parts a prefetch's proofs are asked in (each one upstream request, or more past the batch size). */
const MAX_PARTS = 8

/**
 * The parent state in the parts it is proven and stored in, by the transaction that first touched
 * each account and slot: the first transaction alone, then the next one, then two, four, eight...,
 * the rest in the last part. A replay reads in that order, so the first part is proven (one round
 * trip and a handful of proofs) while the block's later proofs are still computed, and each later
 * part, twice the one before, is proven while the transactions before it are replayed. A read waits
 * for its own part only. Unproven, the whole state is one part.
 */
export function partsOf(state: ParentState, transactions: number, proving: boolean): PartAccount[][] {
  const whole = () =>
    [...state].map(([address, account]) => ({ address, account, fields: true, slots: [...account.storage.keys()] }))
  if (!proving) return [whole()]
  const partOf = partIndexByTransaction(transactions)
  const parts: Map<string, PartAccount>[] = Array.from({ length: (partOf.at(-1) ?? 0) + 1 }, () => new Map())
  const entry = (index: number, address: string, account: ParentAccount): PartAccount => {
    const part = parts[partOf[index] ?? 0] as Map<string, PartAccount>
    let held = part.get(address)
    if (held === undefined) {
      held = { address, account, fields: false, slots: [] }
      part.set(address, held)
    }
    return held
  }
  for (const [address, account] of state) {
    entry(account.firstTouch, address, account).fields = true
    for (const [slot, index] of account.slotFirstTouch) entry(index, address, account).slots.push(slot)
  }
  return parts.map((part) => [...part.values()]).filter((part) => part.length > 0)
}

/** For each transaction of a block, the part its state is proven in (sizes 1, 1, 2, 4, ...; at most `MAX_PARTS`). */
function partIndexByTransaction(transactions: number): number[] {
  const partOf: number[] = []
  let part = 0
  let size = 1
  let left = 1
  for (let index = 0; index < transactions; index++) {
    if (left === 0 && part < MAX_PARTS - 1) {
      part += 1
      size = part === 1 ? 1 : size * 2
      left = size
    }
    partOf.push(part)
    left -= 1
  }
  return partOf
}
