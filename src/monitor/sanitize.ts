/**
 * C0 and C1 controls, DEL, and the bidirectional overrides and isolates: what could move the
 * cursor, retitle the terminal, change colours or reorder text when drawn (SPEC §8). Method names,
 * URLs and messages on the wire are client or provider input.
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g

/** A string safe to draw: every unsafe character becomes U+FFFD, so that something was there stays visible. */
export function sanitizeText(text: string): string {
  return text.replace(UNSAFE, '\ufffd')
}

/** A JSON value with every string in it, object keys included, made safe to draw. */
export function sanitizeDeep(value: unknown): unknown {
  if (typeof value === 'string') return sanitizeText(value)
  if (Array.isArray(value)) return value.map(sanitizeDeep)
  if (value === null || typeof value !== 'object') return value
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [sanitizeText(key), sanitizeDeep(item)]))
}
