import type { TSchema } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { InvalidParamsError } from '../rpc/errors.ts'
import type { StreamClient } from '../streams/hub.ts'

/** What the transport knows about the caller of one call. */
export type CallContext = {
  /** The connection subscriptions are delivered to (WebSocket only), and how many it may hold. */
  stream?: { client: StreamClient; maxSubscriptions: number }
  /** Why state-changing management methods are refused to this caller, or undefined when allowed. */
  adminDenied?: string
  /** Why methods that change a node's state or use its keys are refused (a browser origin not allowed), or undefined. */
  originDenied?: string
  /** Who calls, for rate limits and per-client metrics: a token's name, else the IP address. */
  client?: string
  /** The call came from this machine (management methods from loopback are never rate limited). */
  loopback?: boolean
}

/**
 * A method answered by the proxy itself, dispatched by name before caching (SPEC §4). Whether it
 * is privileged (refused to browsers, and off loopback without the admin token) is in `rpc/methods.ts`.
 */
export type ManagementMethod = {
  /** Returns the result value; throws an `RpcError` to answer an error. `context` says who calls, asked only when needed. */
  run(params: unknown, context: ContextSource): unknown
}

/** Who is calling, asked only when a call needs it (a remembered reply never does). */
export type ContextSource = () => CallContext

/** Compile a params schema once and return a checker that throws `-32602` with `expected` on mismatch. */
export function paramsChecker<T extends TSchema>(schema: T, expected: string) {
  const compiled = TypeCompiler.Compile(schema)
  return (params: unknown): T['static'] => {
    if (!compiled.Check(params)) throw new InvalidParamsError(`expected ${expected}`)
    return params
  }
}
