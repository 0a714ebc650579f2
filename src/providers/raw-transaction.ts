import { keccak_256 } from '@noble/hashes/sha3'
import { bytesToHex, hexToBytes } from '@noble/hashes/utils'
import type { RpcErrorObject } from '../rpc/types.ts'

/** The hash of a signed raw transaction (keccak-256 of its bytes), or undefined for malformed hex. */
export function rawTransactionHash(raw: unknown): string | undefined {
  if (typeof raw !== 'string' || !/^0x([0-9a-fA-F]{2})+$/.test(raw)) return undefined
  return `0x${bytesToHex(keccak_256(hexToBytes(raw.slice(2))))}`
}

/**
 * After an earlier attempt may have delivered the transaction, these answers from another provider
 * mean it is already in a mempool: the send succeeded.
 */
export function meansAlreadySent(error: RpcErrorObject): boolean {
  return /already known|already imported|known transaction|nonce too low|transaction already exists/i.test(error.message)
}
