import { errorOutcome, type RpcError } from '../../rpc/errors.ts'
import { toReplyText } from '../../rpc/reply.ts'
import type { CacheStatus } from '../../rpc/types.ts'
import type { ServedBody } from '../serve-body.ts'

/** SPEC §3: browser dapps may make data calls (management methods are guarded separately). */
export const CORS_HEADERS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'POST, GET, OPTIONS',
  'access-control-allow-headers': 'content-type, authorization',
  'access-control-max-age': '600',
}

const JSON_HEADERS = { 'content-type': 'application/json', 'access-control-allow-origin': '*' }

/** Response headers per cache status, built once (SPEC §9: `x-cache: HIT|MISS|BYPASS`; hits name no provider). */
const RPC_HEADERS: Record<CacheStatus, Headers> = {
  HIT: new Headers({ ...JSON_HEADERS, 'x-cache': 'HIT' }),
  'HIT-TTL': new Headers({ ...JSON_HEADERS, 'x-cache': 'HIT-TTL' }),
  MISS: new Headers({ ...JSON_HEADERS, 'x-cache': 'MISS' }),
  BYPASS: new Headers({ ...JSON_HEADERS, 'x-cache': 'BYPASS' }),
}

/** A JSON response from text that is already serialized. */
export function jsonResponse(status: number, text: string): Response {
  return new Response(text, { status, headers: JSON_HEADERS })
}

/** Headers per cache status and answering provider, built once each (providers are few; batches may name several). */
const PROVIDER_HEADERS = new Map<string, Headers>()
const MAX_PROVIDER_HEADERS = 256

function headersFor(cache: CacheStatus, provider: string): Headers {
  const key = `${cache} ${provider}`
  const known = PROVIDER_HEADERS.get(key)
  if (known !== undefined) return known
  const headers = new Headers(RPC_HEADERS[cache])
  headers.set('x-provider', provider)
  if (PROVIDER_HEADERS.size < MAX_PROVIDER_HEADERS) PROVIDER_HEADERS.set(key, headers)
  return headers
}

/**
 * A JSON-RPC answer with its `x-cache` header, `x-provider` naming the (redacted) provider that
 * answered, and for state answers `x-verified: proof|none` (SPEC §15).
 */
export function rpcResponse(
  text: string,
  cache: CacheStatus,
  provider?: string,
  verified?: 'proof' | 'none',
): Response {
  const headers =
    verified !== undefined
      ? verifiedHeadersFor(cache, provider, verified)
      : provider === undefined
        ? RPC_HEADERS[cache]
        : headersFor(cache, provider)
  return new Response(text, { status: 200, headers })
}

/** Headers per cache status, provider and proof (SPEC §15), built once each like the others. */
const VERIFIED_HEADERS = new Map<string, Headers>()

function verifiedHeadersFor(cache: CacheStatus, provider: string | undefined, verified: 'proof' | 'none'): Headers {
  const key = `${verified} ${cache} ${provider ?? ''}`
  const known = VERIFIED_HEADERS.get(key)
  if (known !== undefined) return known
  const headers = new Headers(provider === undefined ? RPC_HEADERS[cache] : headersFor(cache, provider))
  headers.set('x-verified', verified)
  if (VERIFIED_HEADERS.size < MAX_PROVIDER_HEADERS) VERIFIED_HEADERS.set(key, headers)
  return headers
}

/** A JSON-RPC error response with `id: null`, for failures before any call could be read. */
export function errorResponse(status: number, error: RpcError): Response {
  return jsonResponse(status, toReplyText('null', errorOutcome(error)))
}

/** SPEC §13: a body whose every call the rate limit refused: HTTP 429, `Retry-After` in seconds. */
export function rateLimitedResponse(text: string, retryAfterS: number): Response {
  return new Response(text, { status: 429, headers: { ...JSON_HEADERS, 'retry-after': String(retryAfterS) } })
}

/** A served body as HTTP: the proxy's own status, 204 for notifications only, 429 with `Retry-After`, else 200 with `x-cache`. */
export function servedResponse(served: ServedBody): Response {
  if (served.status !== undefined)
    return served.text === null
      ? new Response(null, { status: served.status })
      : jsonResponse(served.status, served.text)
  if (served.text === null) return new Response(null, { status: 204 })
  if (served.retryAfterS !== undefined) return rateLimitedResponse(served.text, served.retryAfterS)
  return rpcResponse(served.text, served.cache, served.provider, served.verified)
}
