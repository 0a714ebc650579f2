import type { Outcome, RpcErrorObject } from './types.ts'

/**
 * The JSON-RPC error codes the proxy reads in upstream answers (JSON-RPC 2.0 §5.1, EIP-1474, and what
 * providers send besides); named here so no other file writes a wire code as a literal.
 */
export const RPC_CODES = {
  /** Geth's "execution reverted", with the revert data. */
  executionReverted: 3,
  /** An HTTP status some providers put in a JSON-RPC error when they rate-limit. */
  tooManyRequests: 429,
  parseError: -32700,
  invalidRequest: -32600,
  methodNotFound: -32601,
  invalidParams: -32602,
  internalError: -32603,
  /** EIP-1474: the resource asked for was not found (a provider behind: tried elsewhere). */
  resourceNotFound: -32001,
  /** EIP-1474: the resource asked for is unavailable. */
  resourceUnavailable: -32002,
  /** EIP-1474: a limit was exceeded (also what most providers say when they rate-limit). */
  limitExceeded: -32005,
} as const

/**
 * An error answered to the client. Each subclass has one fixed JSON-RPC code, `static code`;
 * `toErrorObject` is the only place that turns an error into a wire error object.
 */
export class RpcError extends Error {
  /** The JSON-RPC code every error of this class answers with. */
  static readonly code: number = -32603
  override name = 'RpcError'
  constructor(
    message: string,
    readonly data?: unknown,
  ) {
    super(message)
  }
  get code(): number {
    return (this.constructor as typeof RpcError).code
  }
}

/** JSON-RPC 2.0 §5.1: invalid JSON was received. */
export class ParseError extends RpcError {
  static override readonly code = -32700
  override name = 'ParseError'
  constructor(message = 'Parse error: the body is not valid JSON') {
    super(message)
  }
}

/** JSON-RPC 2.0 §5.1: the JSON sent is not a valid request object. */
export class InvalidRequestError extends RpcError {
  static override readonly code = -32600
  override name = 'InvalidRequestError'
  constructor(message: string) {
    super(`Invalid request: ${message}`)
  }
}

/** The request body exceeds the limit (answered with HTTP 413; `-32600`, since viem retries `-32005`). */
export class BodyTooLargeError extends RpcError {
  static override readonly code = -32600
  override name = 'BodyTooLargeError'
  constructor(readonly maxBytes: number) {
    super(`Request body too large: the limit is ${maxBytes} bytes`)
  }
}

/** A body whose shape would cost far more memory to parse than its size (HTTP 413, SPEC §8). */
export class BodyTooCostlyError extends RpcError {
  static override readonly code = -32600
  override name = 'BodyTooCostlyError'
  constructor(costBytes: number, sizeBytes: number) {
    super(
      `Request too costly to parse: about ${Math.round(costBytes / 2 ** 20)} MiB of memory for a ${Math.round(sizeBytes / 1024)} KiB body (nested empty objects and arrays)`,
    )
  }
}

/** The requests being answered already use the memory set aside for them: try again shortly (HTTP 503). */
export class OverloadedError extends RpcError {
  static override readonly code = -32005
  override name = 'OverloadedError'
  constructor() {
    super('Server busy: the requests in flight use all the memory set aside for them; retry shortly')
  }
}

/** JSON-RPC 2.0 §5.1: the method does not exist here. */
export class MethodNotFoundError extends RpcError {
  static override readonly code = -32601
  override name = 'MethodNotFoundError'
  constructor(method: string) {
    super(`Method not found: ${method}`)
  }
}

/** JSON-RPC 2.0 §5.1: invalid method parameters. */
export class InvalidParamsError extends RpcError {
  static override readonly code = -32602
  override name = 'InvalidParamsError'
  constructor(message: string) {
    super(`Invalid params: ${message}`)
  }
}

/** JSON-RPC 2.0 §5.1: an unexpected exception; its details go to the log, never to the client. */
export class InternalError extends RpcError {
  static override readonly code = -32603
  override name = 'InternalError'
  constructor() {
    super('Internal error')
  }
}

/** A server-side condition the client can act on (`-32000`, e.g. an unknown instance). */
export class ServerError extends RpcError {
  static override readonly code = -32000
  override name = 'ServerError'
}

/** The proxy began stopping while this request's body was still arriving: it was not read, nothing was asked (HTTP 503). */
export class ShuttingDownError extends RpcError {
  static override readonly code = -32000
  override name = 'ShuttingDownError'
  constructor() {
    super('The proxy is shutting down: the request body was not read; send it again to a running proxy')
  }
}

/** EIP-1474 `-32005`: a bound was reached (the instance registry is full). */
export class LimitExceededError extends RpcError {
  static override readonly code = -32005
  override name = 'LimitExceededError'
}

/** SPEC §13: the client's budget is spent (`-32005`; over HTTP a body of only such calls is a 429 with `Retry-After`). */
export class RateLimitedError extends RpcError {
  static override readonly code = -32005
  override name = 'RateLimitedError'
  constructor(readonly retryAfterS: number) {
    super('rate limit exceeded', { retry_after_seconds: retryAfterS })
  }
}

/** The caller may not use this method (browser origin, missing or wrong token, a Host that is not loopback). */
export class ForbiddenError extends RpcError {
  static override readonly code = -32010
  override name = 'ForbiddenError'
}

/** An unknown HTTP path (HTTP 404). */
export class NotFoundError extends RpcError {
  static override readonly code = -32601
  override name = 'NotFoundError'
  constructor() {
    super('Not found: JSON-RPC is served on POST /')
  }
}

/** Another HTTP method on `/` (HTTP 405). */
export class MethodNotAllowedError extends RpcError {
  static override readonly code = -32600
  override name = 'MethodNotAllowedError'
  constructor() {
    super('Method not allowed: JSON-RPC is served on POST /')
  }
}

/** One failed try against one provider, as reported to the client (redacted). */
export type AttemptReport = { provider: string; failure: string; message: string }

/** Every provider was tried and none gave an answer (EIP-1474 -32002, resource unavailable). */
export class ProvidersUnavailableError extends RpcError {
  static override readonly code = -32002
  override name = 'ProvidersUnavailableError'
  constructor(message: string, attempts: AttemptReport[]) {
    super(message, { attempts })
  }
}

/** Subscriptions need a connection to deliver to (geth answers HTTP the same way: `-32601`). */
export class NotificationsUnsupportedError extends RpcError {
  static override readonly code = -32601
  override name = 'NotificationsUnsupportedError'
  constructor() {
    super('notifications not supported: subscribe over WebSocket (ws://), or use eth_newFilter over HTTP')
  }
}

/** geth's answer to an unknown or expired filter id. */
export class FilterNotFoundError extends RpcError {
  static override readonly code = -32000
  override name = 'FilterNotFoundError'
  constructor() {
    super('filter not found')
  }
}

/** An error an upstream answered to one of the proxy's own calls, relayed with its own code (e.g. `eth_getFilterLogs`). */
export class UpstreamAnswerError extends RpcError {
  override name = 'UpstreamAnswerError'
  constructor(
    private readonly upstreamCode: number,
    message: string,
    data?: unknown,
  ) {
    super(message, data)
  }
  override get code(): number {
    return this.upstreamCode
  }
}

/** The only place that builds wire error objects; unexpected exceptions never leak details. */
export function toErrorObject(error: unknown): RpcErrorObject {
  if (error instanceof RpcError) {
    return error.data === undefined
      ? { code: error.code, message: error.message }
      : { code: error.code, message: error.message, data: error.data }
  }
  return { code: InternalError.code, message: 'Internal error' }
}

/** The outcome of a call that failed with `error`. */
export function errorOutcome(error: unknown): Outcome {
  return { error: toErrorObject(error) }
}
