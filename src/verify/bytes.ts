import { Buffer } from 'node:buffer'
import { hexToBytes as fromHexDigits, bytesToHex as toHexDigits } from '@noble/hashes/utils'

/** Hex text and bytes, as Ethereum answers write them: `0x`-prefixed data, and quantities without leading zeros. */

const HEX = /^0x([0-9a-fA-F]{2})*$/
const QUANTITY = /^0x[0-9a-fA-F]+$/

/** `0x`-prefixed data of whole bytes as bytes; undefined for anything else (checked first: `Buffer` would skip bad digits). */
export function hexToBytes(hex: string): Uint8Array | undefined {
  return HEX.test(hex) ? Buffer.from(hex.slice(2), 'hex') : undefined
}

/** A quantity (`0x0`, `0x1a`) as its minimal big-endian bytes, as RLP wants it (zero is empty). */
export function quantityToBytes(quantity: string): Uint8Array | undefined {
  if (!QUANTITY.test(quantity)) return undefined
  const digits = quantity.slice(2).replace(/^0+/, '')
  return fromHexDigits(digits.length % 2 === 1 ? `0${digits}` : digits)
}

/** Bytes as `0x`-prefixed lowercase hex. */
export function bytesToHex(bytes: Uint8Array): string {
  return `0x${toHexDigits(bytes)}`
}

/** Big-endian bytes as a quantity (`0x0` for none). */
export function bytesToQuantity(bytes: Uint8Array): string {
  const digits = toHexDigits(bytes).replace(/^0+/, '')
  return `0x${digits === '' ? '0' : digits}`
}
