/** What kind of failure an attempt met; the failover loop reports it per attempt. */
export type UpstreamFailureKind =
  | 'timeout'
  | 'network'
  | 'http-status'
  | 'invalid-body'
  | 'too-large'
  | 'rate-limited'
  | 'provider-fault'

/** A failure talking to one provider. Carries the redacted label, never the URL; the original is `cause`. */
export class UpstreamError extends Error {
  override name = 'UpstreamError'
  constructor(
    readonly kind: UpstreamFailureKind,
    readonly provider: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}

/** The attempt took longer than its timeout. */
export class UpstreamTimeoutError extends UpstreamError {
  override name = 'UpstreamTimeoutError'
  constructor(provider: string, timeoutMs: number, cause?: unknown) {
    super('timeout', provider, `no answer within ${timeoutMs} ms`, { cause })
  }
}

/** Connection refused, reset, DNS failure and the like. */
export class UpstreamNetworkError extends UpstreamError {
  override name = 'UpstreamNetworkError'
  constructor(provider: string, cause?: unknown) {
    super('network', provider, 'connection failed', { cause })
  }
}

/**
 * An HTTP status that is not an answer (5xx, 429, and 4xx without a JSON-RPC body). A 429 is a rate
 * limit (never a strike); a 503 is a fault like any 5xx: a service that is down says it as often.
 */
export class UpstreamStatusError extends UpstreamError {
  override name = 'UpstreamStatusError'
  constructor(
    provider: string,
    readonly status: number,
  ) {
    super(status === 429 ? 'rate-limited' : 'http-status', provider, `HTTP ${status}`)
  }
}

/** The body is not a JSON-RPC response. */
export class UpstreamInvalidBodyError extends UpstreamError {
  override name = 'UpstreamInvalidBodyError'
  constructor(provider: string, detail: string) {
    super('invalid-body', provider, `invalid response body: ${detail}`)
  }
}

/** The body exceeds the response size cap. */
export class UpstreamBodyTooLargeError extends UpstreamError {
  override name = 'UpstreamBodyTooLargeError'
  constructor(provider: string, maxBytes: number) {
    super('too-large', provider, `response larger than ${maxBytes} bytes`)
  }
}

/** A JSON-RPC error that says the provider, not the request, is at fault (rate limit, internal error). */
export class UpstreamRpcFaultError extends UpstreamError {
  override name = 'UpstreamRpcFaultError'
  constructor(
    provider: string,
    kind: 'rate-limited' | 'provider-fault',
    readonly error: { code: number; message: string },
  ) {
    super(kind, provider, `JSON-RPC error ${error.code}: ${error.message}`)
  }
}

/** Whether a fetch failed because the provider closed the connection on it (what a node does to a body past its limit). */
export function isConnectionReset(error: unknown): boolean {
  let cause = error
  for (let depth = 0; depth < 4 && cause !== null && typeof cause === 'object'; depth++) {
    const { code, message } = cause as { code?: unknown; message?: unknown }
    if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'UND_ERR_SOCKET') return true
    if (typeof message === 'string' && /connection (was )?reset|broken pipe/i.test(message)) return true
    cause = (cause as { cause?: unknown }).cause
  }
  return false
}
