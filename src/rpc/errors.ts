import type { Outcome, RpcErrorObject } from './types.ts'

/** An error answered to the client, with a fixed JSON-RPC code. */
export class RpcError extends Error {
  override name = 'RpcError'
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message)
  }
}

/** JSON-RPC 2.0 §5.1: invalid JSON was received. */
export class ParseError extends RpcError {
  override name = 'ParseError'
  constructor(message = 'Parse error: the body is not valid JSON') {
    super(-32700, message)
  }
}

/** JSON-RPC 2.0 §5.1: the JSON sent is not a valid request object. */
export class InvalidRequestError extends RpcError {
  override name = 'InvalidRequestError'
  constructor(message: string) {
    super(-32600, `Invalid request: ${message}`)
  }
}

/** JSON-RPC 2.0 §5.1: the method does not exist here. */
export class MethodNotFoundError extends RpcError {
  override name = 'MethodNotFoundError'
  constructor(method: string) {
    super(-32601, `Method not found: ${method}`)
  }
}

/** JSON-RPC 2.0 §5.1: invalid method parameters. */
export class InvalidParamsError extends RpcError {
  override name = 'InvalidParamsError'
  constructor(message: string) {
    super(-32602, `Invalid params: ${message}`)
  }
}

/** A server-side condition the client can act on (`-32000`, e.g. an unknown instance). */
export class ServerError extends RpcError {
  override name = 'ServerError'
  constructor(message: string, data?: unknown) {
    super(-32000, message, data)
  }
}

/** The caller may not use this method (browser origin, missing or wrong token). */
export class ForbiddenError extends RpcError {
  override name = 'ForbiddenError'
  constructor(message: string) {
    super(-32010, message)
  }
}

/** The only place that builds wire error objects; unexpected exceptions never leak details. */
export function toErrorObject(error: unknown): RpcErrorObject {
  if (error instanceof RpcError) {
    return error.data === undefined
      ? { code: error.code, message: error.message }
      : { code: error.code, message: error.message, data: error.data }
  }
  return { code: -32603, message: 'Internal error' }
}

/** The outcome of a call that failed with `error`. */
export function errorOutcome(error: unknown): Outcome {
  return { error: toErrorObject(error) }
}

/** One failed try against one provider, as reported to the client (redacted). */
export type AttemptReport = { provider: string; failure: string; message: string }

/** Every provider was tried and none gave an answer (EIP-1474 -32002, resource unavailable). */
export class ProvidersUnavailableError extends RpcError {
  override name = 'ProvidersUnavailableError'
  constructor(message: string, attempts: AttemptReport[]) {
    super(-32002, message, { attempts })
  }
}
