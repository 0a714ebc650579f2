/**
 * The one codec for JSON-RPC quantities (chain ids, block numbers): hex with `0x`, leading zeros
 * tolerated (`"0x01"` and `"0x1"` are the same number), compared as numbers, never as strings.
 */
const QUANTITY = /^0x[0-9a-fA-F]{1,64}$/

/** A quantity as a safe integer, or undefined for anything else (tags, decimals, huge values). */
export function parseQuantity(value: unknown): number | undefined {
  if (typeof value !== 'string' || !QUANTITY.test(value)) return undefined
  const number = Number.parseInt(value, 16)
  return Number.isSafeInteger(number) ? number : undefined
}

/** A quantity held in JSON text (an upstream `result`), or undefined. */
export function parseQuantityJson(json: string): number | undefined {
  try {
    return parseQuantity(JSON.parse(json))
  } catch {
    return undefined
  }
}

/** The canonical quantity text of a number: `0x` and no leading zeros. */
export function toQuantity(value: number): string {
  return `0x${value.toString(16)}`
}
