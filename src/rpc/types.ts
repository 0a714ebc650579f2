/** JSON-RPC 2.0 §4: an id is a string, a number or null; a call without one is a notification. */
export type JsonRpcId = string | number | null

/** One JSON-RPC call as validated by `parseBody`. */
export type RpcCall = {
  jsonrpc: '2.0'
  method: string
  /** An array or an object; for the proxy's own `edb_*` methods, any JSON value (the method judges it). */
  params?: unknown
  id?: JsonRpcId
}

/** JSON-RPC 2.0 §5.1 error object. */
export type RpcErrorObject = { code: number; message: string; data?: unknown }

/**
 * The answer to one call, without its id: a result kept as raw JSON text (so cached and upstream
 * results are spliced, not re-serialized), or an error object.
 */
export type Outcome = (
  | { resultJson: string; error?: undefined }
  | { error: RpcErrorObject; resultJson?: undefined }
) & {
  /** The redacted label of the provider that answered (SPEC §9), when one did. */
  provider?: string
  /** Set when the proxy itself found no provider to answer (its own -32002), never for an upstream's error. */
  unavailable?: true
}

/** How the cache took part in an answer (the `x-cache` response header); HIT-TTL is a short-lived shared answer (opt-in, SPEC §13). */
export type CacheStatus = 'HIT' | 'HIT-TTL' | 'MISS' | 'BYPASS'

/** Build a result outcome from a plain value. */
export function resultOf(value: unknown): Outcome {
  return { resultJson: JSON.stringify(value) ?? 'null' }
}
