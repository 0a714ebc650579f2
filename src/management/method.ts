import type { TSchema } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import type { ContextSource } from '../rpc/context.ts'
import { InvalidParamsError } from '../rpc/errors.ts'

/**
 * A method answered by the proxy itself, dispatched by name before caching (SPEC §4). Whether it
 * is privileged (refused to browsers, and off loopback without the admin token) is in `rpc/methods.ts`.
 */
export type ManagementMethod = {
  /** Returns the result value; throws an `RpcError` to answer an error. `context` says who calls, asked only when needed. */
  run(params: unknown, context: ContextSource): unknown
}

/** Compile a params schema once and return a checker that throws `-32602` with `expected` on mismatch. */
export function paramsChecker<T extends TSchema>(schema: T, expected: string) {
  const compiled = TypeCompiler.Compile(schema)
  return (params: unknown): T['static'] => {
    if (!compiled.Check(params)) throw new InvalidParamsError(`expected ${expected}`)
    return params
  }
}
