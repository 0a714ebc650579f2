/**
 * A client that reads a block's parent state as EDB does before replaying a transaction: the
 * transaction by hash, its block with every transaction, then one state read at a time, serially,
 * for every account and slot the block touches up to and including it (SPEC §14).
 */
import { toHex } from 'viem'
import { rpc } from './anvil.ts'
import { type BusyBlock, type ReplayTarget, stateReads, targetIndex } from './busy-block.ts'

/** What the client read, one `method params -> answer` line a call, and how long the whole read took. */
export type EdbLikeReplay = { output: string; ms: number; calls: number }

/** Read, through `url`, what a replay of the busy block's `target` transaction needs; every answer kept as text. */
export async function edbLikeReplay(busy: BusyBlock, target: ReplayTarget, url: string): Promise<EdbLikeReplay> {
  const index = targetIndex(busy, target)
  const hash = busy.txs[index] as string
  const lines: string[] = []
  const ask = async (method: string, params: unknown[]) => {
    const answer = await rpc(url, method, params, lines.length + 1)
    const result = answer.error === undefined ? answer.result : { error: answer.error }
    lines.push(`${method} ${JSON.stringify(params)} -> ${JSON.stringify(result)}`)
    return answer.result
  }
  const startedAt = performance.now()
  const transaction = await ask('eth_getTransactionByHash', [hash])
  if (transaction?.blockNumber !== toHex(busy.block)) throw new Error(`${hash} is not in block ${busy.block}`)
  await ask('eth_getBlockByNumber', [transaction.blockNumber, true])
  for (const { method, params } of stateReads(busy, index)) await ask(method, params)
  return { output: lines.join('\n'), ms: performance.now() - startedAt, calls: lines.length }
}
