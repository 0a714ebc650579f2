import type { RpcErrorObject } from '../rpc/types.ts'

/** What an upstream JSON-RPC error means for the failover loop. */
export type ErrorVerdict = 'answer' | 'rate-limited' | 'provider-fault'

const RATE_LIMIT_CODES = new Set([429, -32005])
const RATE_LIMIT_WORDING = /rate.?limit|too many requests|request limit|exceeded .*(quota|limit|capacity)|throttl/i
const PROVIDER_FAULT_WORDING =
  /missing trie node|pruned|header not found|state (is )?not available|historical state|not (yet )?synced|internal server error|upstream|timed? ?out|temporarily unavailable/i

/**
 * Decide whether an upstream JSON-RPC error is the answer (every healthy node would say the same:
 * reverts, invalid params, nonce errors) or says the provider is at fault and another should be tried.
 */
export function classifyRpcError(error: RpcErrorObject): ErrorVerdict {
  if (RATE_LIMIT_CODES.has(error.code) || RATE_LIMIT_WORDING.test(error.message)) return 'rate-limited'
  if (error.code === 3 || /revert/i.test(error.message)) return 'answer'
  if (error.code === -32603 || PROVIDER_FAULT_WORDING.test(error.message)) return 'provider-fault'
  return 'answer'
}
