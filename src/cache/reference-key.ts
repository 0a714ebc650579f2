const MASK = (1n << 64n) - 1n
const SEPARATOR = 0xff
const utf8 = new TextEncoder()

/** The Rust reference's cache key `<method>:<hex siphash13>` (SPEC Appendix A); absent params hash as null. */
export function referenceKey(method: string, params: unknown): string {
  const bytes: number[] = []
  writeString(bytes, method)
  writeValue(bytes, params === undefined ? null : params)
  return `${method}:${sipHash13(Uint8Array.from(bytes)).toString(16)}`
}

/** SipHash-1-3 with both keys zero, as Rust's `DefaultHasher` (one compression round, three finalization rounds). */
export function sipHash13(data: Uint8Array): bigint {
  const state = {
    v0: 0x736f6d6570736575n,
    v1: 0x646f72616e646f6dn,
    v2: 0x6c7967656e657261n,
    v3: 0x7465646279746573n,
  }
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength)
  const end = data.length - (data.length % 8)
  for (let i = 0; i < end; i += 8) compress(state, view.getBigUint64(i, true))
  let last = BigInt(data.length & 0xff) << 56n
  for (let i = end; i < data.length; i++) last |= BigInt(data[i] as number) << BigInt(8 * (i - end))
  compress(state, last)
  state.v2 ^= 0xffn
  sipRound(state)
  sipRound(state)
  sipRound(state)
  return state.v0 ^ state.v1 ^ state.v2 ^ state.v3
}

type SipState = { v0: bigint; v1: bigint; v2: bigint; v3: bigint }

function compress(s: SipState, m: bigint): void {
  s.v3 ^= m
  sipRound(s)
  s.v0 ^= m
}

function sipRound(s: SipState): void {
  s.v0 = (s.v0 + s.v1) & MASK
  s.v1 = rotl(s.v1, 13n) ^ s.v0
  s.v0 = rotl(s.v0, 32n)
  s.v2 = (s.v2 + s.v3) & MASK
  s.v3 = rotl(s.v3, 16n) ^ s.v2
  s.v0 = (s.v0 + s.v3) & MASK
  s.v3 = rotl(s.v3, 21n) ^ s.v0
  s.v2 = (s.v2 + s.v1) & MASK
  s.v1 = rotl(s.v1, 17n) ^ s.v2
  s.v2 = rotl(s.v2, 32n)
}

function rotl(x: bigint, b: bigint): bigint {
  return ((x << b) | (x >> (64n - b))) & MASK
}

function writeValue(out: number[], value: unknown): void {
  if (value === null || value === undefined) writeString(out, 'null')
  else if (typeof value === 'boolean') out.push(value ? 1 : 0)
  else if (typeof value === 'number') writeString(out, JSON.stringify(value))
  else if (typeof value === 'string') writeString(out, value)
  else if (Array.isArray(value)) writeArray(out, value)
  else if (typeof value === 'object') writeObject(out, value as Record<string, unknown>)
  else throw new TypeError(`referenceKey: cannot hash a ${typeof value}`)
}

function writeArray(out: number[], value: unknown[]): void {
  writeString(out, 'array')
  writeLength(out, value.length)
  for (const item of value) writeValue(out, item)
}

function writeObject(out: number[], value: Record<string, unknown>): void {
  const entries = Object.entries(value)
    .filter(([, item]) => item !== undefined)
    .map(([key, item]) => ({ key: utf8.encode(key), item }))
    .sort((a, b) => compareBytes(a.key, b.key))
  writeString(out, 'object')
  writeLength(out, entries.length)
  for (const { key, item } of entries) {
    for (const byte of key) out.push(byte)
    out.push(SEPARATOR)
    writeValue(out, item)
  }
}

function writeString(out: number[], text: string): void {
  for (const byte of utf8.encode(text)) out.push(byte)
  out.push(SEPARATOR)
}

/** Rust hashes a `usize` length as 8 little-endian bytes on 64-bit targets. */
function writeLength(out: number[], length: number): void {
  let rest = length
  for (let i = 0; i < 8; i++) {
    out.push(rest % 256)
    rest = Math.floor(rest / 256)
  }
}

/** Byte-wise order of UTF-8 keys, as Rust sorts `String`s (differs from JS UTF-16 order above U+FFFF). */
function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const d = (a[i] as number) - (b[i] as number)
    if (d !== 0) return d
  }
  return a.length - b.length
}
