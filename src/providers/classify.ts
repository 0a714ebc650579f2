import { RPC_CODES } from '../rpc/errors.ts'
import type { RpcErrorObject } from '../rpc/types.ts'

/**
 * What an upstream JSON-RPC error means for the failover loop: the answer (every healthy node would
 * say the same), a rate limit or provider fault (try another provider, a strike against this one),
 * "behind or pruned" (try another provider, but never a strike: a client can ask for a block that
 * does not exist), or unknown (try others until enough distinct providers agree).
 */
export type ErrorVerdict = 'answer' | 'rate-limited' | 'provider-fault' | 'behind' | 'unknown'

const RATE_LIMIT_CODES = new Set<number>([RPC_CODES.tooManyRequests, RPC_CODES.limitExceeded])
const RATE_LIMIT_WORDING =
  /rate.?limit|too many requests|request limit|exceeded .*(quota|limit|capacity)|throttl|compute units/i
const PROVIDER_FAULT_WORDING = /internal server error|upstream|timed? ?out|temporarily unavailable/i
const BEHIND_WORDING =
  /missing trie node|pruned|header not found|state (is )?not available|historical state|not (yet )?synced|block not found|unknown block/i
const DETERMINISTIC_CODES = new Set<number>([
  RPC_CODES.executionReverted,
  RPC_CODES.invalidRequest,
  RPC_CODES.methodNotFound,
  RPC_CODES.invalidParams,
  RPC_CODES.parseError,
])
const DETERMINISTIC_WORDING =
  /revert|nonce too (low|high)|insufficient funds|already known|replacement transaction underpriced|intrinsic gas too low|gas limit reached|invalid (argument|params|signature|sender|transaction)|exceeds block gas limit|max fee per gas less than block base fee/i

/** Classify an upstream JSON-RPC error (by code and `error.message` only, never by result bodies). */
export function classifyRpcError(error: RpcErrorObject): ErrorVerdict {
  if (RATE_LIMIT_CODES.has(error.code) || RATE_LIMIT_WORDING.test(error.message)) return 'rate-limited'
  if (DETERMINISTIC_CODES.has(error.code) || DETERMINISTIC_WORDING.test(error.message)) return 'answer'
  if (BEHIND_WORDING.test(error.message)) return 'behind'
  if (error.code === RPC_CODES.internalError || PROVIDER_FAULT_WORDING.test(error.message)) return 'provider-fault'
  return 'unknown'
}
