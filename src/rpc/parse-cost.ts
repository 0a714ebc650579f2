/**
 * What parsing a body may cost in memory, estimated by one pass over its text before `JSON.parse`
 * (SPEC §8: a 32 MiB body of empty objects must not cost gigabytes). Objects and arrays are the
 * expensive part (tens of bytes each however small their text), then strings; numbers, literals and
 * the text itself are cheap.
 */
const CONTAINER_BYTES = 64
const STRING_BYTES = 32

/** Bodies up to this size are not scanned: at worst they cost a few MiB. */
const SCAN_ABOVE_BYTES = 64 * 1024

/** Estimated bytes of memory that parsing `text` takes. */
export function estimateParseCost(text: string): number {
  if (text.length <= SCAN_ABOVE_BYTES) return text.length * 2 + Math.ceil(text.length / 2) * CONTAINER_BYTES
  let containers = 0
  let strings = 0
  let inString = false
  for (let at = 0; at < text.length; at++) {
    const code = text.charCodeAt(at)
    if (inString) {
      if (code === 0x5c) at++
      else if (code === 0x22) inString = false
    } else if (code === 0x22) {
      inString = true
      strings++
    } else if (code === 0x7b || code === 0x5b) containers++
  }
  return text.length * 2 + containers * CONTAINER_BYTES + strings * STRING_BYTES
}
