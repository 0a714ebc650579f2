/**
 * What `JSON.parse` loses of a body, found in one pass over its text: each call's `id` exactly as
 * written (SPEC §3: echoed byte for byte), and whether a number outside strings may not fit a
 * double. The pass is linear in the body's bytes whatever its shape (SPEC §3: a body costs time
 * linear in its size): strings are skipped with `indexOf`, nothing is searched twice.
 */
export type BodySource = {
  /** Per call (its index in a batch; 0 for a single call): the text of its last `id` member, when that is a string, number or literal. */
  ids: (string | undefined)[]
  /** A number of 16 digits or more stands outside strings: it may lie beyond 2^53 (which has 16). */
  longNumber: boolean
}

const QUOTE = 0x22
const BACKSLASH = 0x5c
const COMMA = 0x2c
const OPEN_OBJECT = 0x7b
const CLOSE_OBJECT = 0x7d
const OPEN_ARRAY = 0x5b
const CLOSE_ARRAY = 0x5d
const MINUS = 0x2d
const DIGIT_0 = 0x30
const DIGIT_9 = 0x39

/** Scan `text`, which `JSON.parse` has already accepted, for the sources of its calls' ids. */
export function scanBodySource(text: string): BodySource {
  const ids: (string | undefined)[] = []
  let longNumber = false
  let depth = 0
  // A single call is the object at depth 1; a batch's calls are the objects at depth 2.
  let callDepth = 0
  let index = 0
  let inCall = false
  let expectKey = false
  let idValue = false
  for (let at = 0; at < text.length; ) {
    const code = text.charCodeAt(at)
    if (code === QUOTE) {
      const end = stringEnd(text, at)
      if (inCall && depth === callDepth) {
        if (expectKey) {
          idValue = isIdKey(text, at, end)
          expectKey = false
        } else {
          if (idValue) ids[index] = text.slice(at, end + 1)
          idValue = false
        }
      }
      at = end + 1
    } else if (code === MINUS || (code >= DIGIT_0 && code <= DIGIT_9)) {
      const end = tokenEnd(text, at)
      if (!longNumber) longNumber = digitsIn(text, at, end) >= 16
      if (idValue && depth === callDepth) ids[index] = text.slice(at, end)
      idValue = false
      at = end
    } else if (code === OPEN_OBJECT || code === OPEN_ARRAY) {
      depth++
      if (callDepth === 0) callDepth = code === OPEN_OBJECT ? 1 : 2
      if (depth === callDepth) {
        inCall = code === OPEN_OBJECT
        expectKey = inCall
      } else if (idValue && depth === callDepth + 1) {
        // An id that is an object or an array: not an id a reply can carry.
        ids[index] = undefined
        idValue = false
      }
      at++
    } else if (code === CLOSE_OBJECT || code === CLOSE_ARRAY) {
      depth--
      at++
    } else if (code === COMMA) {
      if (depth === 1 && callDepth === 2) index++
      else if (depth === callDepth && inCall) expectKey = true
      at++
    } else if (code >= 0x61 && code <= 0x7a) {
      // true, false, null
      const end = tokenEnd(text, at)
      if (idValue && depth === callDepth) ids[index] = text.slice(at, end)
      idValue = false
      at = end
    } else at++
  }
  return { ids, longNumber }
}

/** The index of the quote that closes the string opening at `start`. */
function stringEnd(text: string, start: number): number {
  for (let at = text.indexOf('"', start + 1); at !== -1; at = text.indexOf('"', at + 1)) {
    let before = at - 1
    while (text.charCodeAt(before) === BACKSLASH) before--
    if ((at - 1 - before) % 2 === 0) return at
  }
  return text.length - 1
}

/** The end of a number or literal token: the first delimiter after it. */
function tokenEnd(text: string, start: number): number {
  let at = start + 1
  for (; at < text.length; at++) {
    const code = text.charCodeAt(at)
    if (code === COMMA || code === CLOSE_OBJECT || code === CLOSE_ARRAY || code <= 0x20) break
  }
  return at
}

function digitsIn(text: string, start: number, end: number): number {
  let digits = 0
  for (let at = start; at < end; at++) {
    const code = text.charCodeAt(at)
    if (code >= DIGIT_0 && code <= DIGIT_9) digits++
  }
  return digits
}

/** Whether the key string between the quotes at `start` and `end` is `id` (escapes included: `"\u0069d"`). */
function isIdKey(text: string, start: number, end: number): boolean {
  if (end - start === 3) return text.charCodeAt(start + 1) === 0x69 && text.charCodeAt(start + 2) === 0x64
  if (end - start > 16) return false
  const key = text.slice(start, end + 1)
  return key.includes('\\') && JSON.parse(key) === 'id'
}
