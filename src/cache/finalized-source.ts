import type { Outcome, RpcCall } from '../rpc/types.ts'
import { toNumberRef } from './block-ref.ts'

/** Sends one internal call upstream (through failover) and returns its outcome. */
export type InternalCall = (call: RpcCall) => Promise<Outcome>

/**
 * The chain's finalized block: the `finalized` tag where the chain supports it, else the head
 * minus `depth` (SPEC §5.1). Remembers a chain that rejects the tag and stops asking for it.
 */
export function createFinalizedSource(send: InternalCall, depth: number): () => Promise<number | undefined> {
  let tagSupported = true
  return async () => {
    if (tagSupported) {
      const outcome = await send({ jsonrpc: '2.0', id: 0, method: 'eth_getBlockByNumber', params: ['finalized', false] })
      if (outcome.resultJson !== undefined) {
        const block = JSON.parse(outcome.resultJson) as { number?: unknown } | null
        const ref = toNumberRef(block?.number)
        if (ref.kind === 'number') return ref.number
      }
      if (outcome.error !== undefined && outcome.error.code !== -32002) tagSupported = false
    }
    const head = await send({ jsonrpc: '2.0', id: 0, method: 'eth_blockNumber', params: [] })
    if (head.resultJson === undefined) return undefined
    const ref = toNumberRef(JSON.parse(head.resultJson))
    return ref.kind === 'number' ? ref.number - depth : undefined
  }
}
