/**
 * How a cacheable method pins its answer (SPEC §5.1): by a block parameter at `index` (number, tag,
 * hash or EIP-1898 object), by a block hash, by a transaction hash (final once its block is), by a
 * log filter, or not at all (`static`: the chain's own constants).
 */
export type Pin =
  | { kind: 'static' }
  | { kind: 'block'; index: number }
  | { kind: 'block-hash'; index: number }
  | { kind: 'tx'; index: number; blockInResult: boolean }
  | { kind: 'logs' }

const block = (index: number): Pin => ({ kind: 'block', index })
const byHash = (index: number): Pin => ({ kind: 'block-hash', index })
const tx = (blockInResult: boolean): Pin => ({ kind: 'tx', index: 0, blockInResult })

/** Every cacheable method; everything else is forwarded every time. */
export const CACHEABLE_METHODS: ReadonlyMap<string, Pin> = new Map<string, Pin>([
  ['eth_chainId', { kind: 'static' }],
  ['net_version', { kind: 'static' }],
  ['eth_getBalance', block(1)],
  ['eth_getCode', block(1)],
  ['eth_getTransactionCount', block(1)],
  ['eth_getStorageAt', block(2)],
  ['eth_getProof', block(2)],
  ['eth_call', block(1)],
  ['eth_getTransactionByHash', tx(true)],
  ['eth_getTransactionReceipt', tx(true)],
  ['eth_getRawTransactionByHash', tx(false)],
  ['eth_getTransactionByBlockHashAndIndex', byHash(0)],
  ['eth_getTransactionByBlockNumberAndIndex', block(0)],
  ['eth_getBlockByNumber', block(0)],
  ['eth_getBlockByHash', byHash(0)],
  ['eth_getBlockReceipts', block(0)],
  ['eth_getBlockTransactionCountByNumber', block(0)],
  ['eth_getBlockTransactionCountByHash', byHash(0)],
  ['eth_getUncleCountByBlockNumber', block(0)],
  ['eth_getUncleCountByBlockHash', byHash(0)],
  ['eth_getUncleByBlockNumberAndIndex', block(0)],
  ['eth_getUncleByBlockHashAndIndex', byHash(0)],
  ['eth_getLogs', { kind: 'logs' }],
  ['debug_traceTransaction', tx(false)],
  ['debug_traceBlockByNumber', block(0)],
  ['debug_traceBlockByHash', byHash(0)],
  ['debug_traceCall', block(1)],
  ['trace_transaction', tx(false)],
  ['trace_block', block(0)],
  ['trace_replayTransaction', tx(false)],
  ['trace_replayBlockTransactions', block(0)],
  ['trace_call', block(2)],
])

/** Whether answers of `method` may ever be cached. */
export function isCacheableMethod(method: string): boolean {
  return CACHEABLE_METHODS.has(method)
}
