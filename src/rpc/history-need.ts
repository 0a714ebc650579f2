import { type HistoryKind, methodInfo } from './methods.ts'
import { parseQuantity } from './quantity.ts'
import type { RpcCall } from './types.ts'

/** What a call needs a provider to still hold: a kind of history at a block number (SPEC §6). */
export type HistoryNeed = { kind: HistoryKind; block: number }

/**
 * The history a call reads, when it names its block by number (a quantity, `earliest`, or an
 * EIP-1898 `{blockNumber}`); a log query by its `fromBlock`. Calls at a tag (`latest`, ...) or a
 * hash need nothing a pruned node lacks that the proxy could know of in advance: undefined.
 */
export function historyNeedOf(call: RpcCall): HistoryNeed | undefined {
  const info = methodInfo(call.method)
  if (info.history === undefined || !Array.isArray(call.params)) return undefined
  const pin = info.pin
  if (pin?.kind === 'block') return at(info.history, call.params[pin.index])
  if (pin?.kind === 'logs') {
    const filter = call.params[0] as { fromBlock?: unknown; blockHash?: unknown } | undefined
    return filter === null || typeof filter !== 'object' ? undefined : at(info.history, filter.fromBlock)
  }
  return undefined
}

function at(kind: HistoryKind, value: unknown): HistoryNeed | undefined {
  if (value === 'earliest') return { kind, block: 0 }
  if (value !== null && typeof value === 'object' && !Array.isArray(value))
    return at(kind, (value as { blockNumber?: unknown }).blockNumber)
  const block = parseQuantity(value)
  return block === undefined ? undefined : { kind, block }
}
