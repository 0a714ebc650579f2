import type { RpcErrorObject } from '../rpc/types.ts'

/**
 * After an earlier attempt may have delivered the transaction, these answers from another provider
 * mean it is already in a mempool: the send succeeded.
 */
export function meansAlreadySent(error: RpcErrorObject): boolean {
  return /already known|already imported|known transaction|nonce too low|transaction already exists/i.test(
    error.message,
  )
}
