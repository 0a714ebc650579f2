import { keccak_256 } from '@noble/hashes/sha3'
import { bytesToHex, hexToBytes } from '@noble/hashes/utils'

/** The hash of a signed raw transaction (keccak-256 of its bytes), or undefined for malformed hex. */
export function rawTransactionHash(raw: unknown): string | undefined {
  if (typeof raw !== 'string' || !/^0x([0-9a-fA-F]{2})+$/.test(raw)) return undefined
  return `0x${bytesToHex(keccak_256(hexToBytes(raw.slice(2))))}`
}
