import type { SeededChain } from './chain.ts'

/** A named set of JSON-RPC bodies that wrk rotates through (one body: the same request every time). */
export type Workload = { name: string; bodies: string[] }

/** The single repeated body of SPEC §10's first hit workload. */
export const SINGLE_BODY = '{"jsonrpc":"2.0","id":1,"method":"eth_getBlockByNumber","params":["0x1",false]}'

/** One repeated body, and a mix of 20 distinct cacheable calls at final blocks (answers ~40 B to ~5 KB). */
export function hitWorkloads(chain: SeededChain): Workload[] {
  return [
    { name: 'single', bodies: [SINGLE_BODY] },
    { name: 'mix20', bodies: mixCalls(chain).map(([method, params], index) => toBody(index + 1, method, params)) },
  ]
}

/** Every block named here is at most 0x40, far below the finalized block (head - 64 = 0x57). */
function mixCalls({ accounts, txHashes, contract }: SeededChain): [string, unknown[]][] {
  const [a0, a1, a2, a3, a7] = [accounts[0], accounts[1], accounts[2], accounts[3], accounts[7]]
  return [
    ['eth_chainId', []],
    ['net_version', []],
    ['eth_getBlockByNumber', ['0x1', false]],
    ['eth_getBlockByNumber', ['0x1', true]],
    ['eth_getBlockByNumber', ['0x2', false]],
    ['eth_getBlockByNumber', ['0xa', true]],
    ['eth_getBlockByNumber', ['0x40', false]],
    ['eth_getBlockReceipts', ['0x1']],
    ['eth_getBalance', [a0, '0x1']],
    ['eth_getBalance', [a1, '0x14']],
    ['eth_getBalance', [a7, '0x40']],
    ['eth_getTransactionCount', [a0, '0x1']],
    ['eth_getTransactionCount', [a2, '0x0']],
    ['eth_getTransactionCount', [a3, '0x20']],
    ['eth_getCode', [a0, '0x1']],
    ['eth_getCode', [contract, '0x2']],
    ['eth_getTransactionByHash', [txHashes[0]]],
    ['eth_getTransactionReceipt', [txHashes[1]]],
    ['eth_getTransactionByBlockNumberAndIndex', ['0x1', '0x2']],
    ['eth_getStorageAt', [contract, '0x0', '0x1']],
  ]
}

function toBody(id: number, method: string, params: unknown[]): string {
  return JSON.stringify({ jsonrpc: '2.0', id, method, params })
}
