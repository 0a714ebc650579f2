import { createKeccak } from 'hash-wasm'

/**
 * Keccak-256 (Ethereum's hash, not SHA3-256: the padding differs), from hash-wasm's WebAssembly.
 * A prefetch checks hundreds of proofs with thousands of nodes the moment a replay starts, in a
 * process that has hashed nothing before: @noble/hashes, pure JavaScript, spent about 38 ms there
 * on one replay's 829 nodes before the JIT caught up; this takes about 6 ms, and needs no warming.
 * Loaded once, when this module is first imported (a few milliseconds); synchronous after that.
 */
const hasher = await createKeccak(256)

/** keccak-256 of `bytes`, 32 bytes. */
export function keccak256(bytes: Uint8Array): Uint8Array {
  return hasher.init().update(bytes).digest('binary')
}
