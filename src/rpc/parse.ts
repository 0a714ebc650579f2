import { Type } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { InvalidRequestError, ParseError, RpcError } from './errors.ts'
import type { JsonRpcId, RpcCall } from './types.ts'

const IdSchema = Type.Union([Type.String(), Type.Number(), Type.Null()])

/** JSON-RPC 2.0 §4: the request object; `params` is structured (array or object) when present. */
export const RpcCallSchema = Type.Object({
  jsonrpc: Type.Literal('2.0'),
  method: Type.String({ minLength: 1, maxLength: 256 }),
  params: Type.Optional(Type.Union([Type.Array(Type.Unknown()), Type.Object({})])),
  id: Type.Optional(IdSchema),
})

const checkCall = TypeCompiler.Compile(RpcCallSchema)
const checkId = TypeCompiler.Compile(IdSchema)

/** One element of a body: a valid call, or the error to answer it with (and the id to answer with). */
export type ParsedCall = { call: RpcCall; error?: undefined } | { error: RpcError; id: JsonRpcId; call?: undefined }

/** A whole body: one call, a batch, or an error answered alone with `id: null`. */
export type ParsedBody =
  | { kind: 'single'; entry: ParsedCall }
  | { kind: 'batch'; entries: ParsedCall[] }
  | { kind: 'invalid'; error: RpcError }

export type ParseOptions = { maxBatchSize: number }

/** Parse a request body (JSON-RPC 2.0 §4 and §6) into calls, validating each with the compiled schema. */
export function parseBody(text: string, { maxBatchSize }: ParseOptions): ParsedBody {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    return { kind: 'invalid', error: new ParseError() }
  }
  if (!Array.isArray(json)) return { kind: 'single', entry: toParsedCall(json) }
  // JSON-RPC 2.0 §6: an empty batch is one invalid request, not an empty array.
  if (json.length === 0) return { kind: 'invalid', error: new InvalidRequestError('empty batch') }
  if (json.length > maxBatchSize) {
    return {
      kind: 'invalid',
      error: new InvalidRequestError(`batch of ${json.length} calls exceeds the limit of ${maxBatchSize}`),
    }
  }
  return { kind: 'batch', entries: json.map(toParsedCall) }
}

/** Validate one call; a cheap boolean check first, details only on failure. */
export function toParsedCall(value: unknown): ParsedCall {
  if (checkCall.Check(value)) {
    const call = value as RpcCall
    if (call.params === undefined || !nestedDeeperThan(call.params, MAX_PARAMS_DEPTH)) return { call }
    return {
      error: new InvalidRequestError(`"params" nested deeper than ${MAX_PARAMS_DEPTH} levels`),
      id: call.id ?? null,
    }
  }
  return { error: new InvalidRequestError(describeInvalid(value)), id: recoverId(value) }
}

/** No Ethereum method nests params this deep; deeper input would only exhaust the stack later. */
export const MAX_PARAMS_DEPTH = 64

function nestedDeeperThan(value: unknown, levels: number): boolean {
  if (value === null || typeof value !== 'object') return false
  if (levels === 0) return true
  for (const child of Array.isArray(value) ? value : Object.values(value)) {
    if (nestedDeeperThan(child, levels - 1)) return true
  }
  return false
}

/** Whether a call expects no answer (JSON-RPC 2.0 §4.1: no `id` member). */
export function isNotification(call: RpcCall): boolean {
  return !('id' in call)
}

function recoverId(value: unknown): JsonRpcId {
  if (value === null || typeof value !== 'object' || !('id' in value)) return null
  const id = (value as { id: unknown }).id
  return checkId.Check(id) ? id : null
}

function describeInvalid(value: unknown): string {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'a call must be a JSON object'
  const call = value as Record<string, unknown>
  if (call.jsonrpc !== '2.0') return '"jsonrpc" must be exactly "2.0"'
  if (typeof call.method !== 'string') return '"method" must be a string'
  if (call.method.length === 0 || call.method.length > 256) return '"method" must be 1 to 256 characters'
  if ('params' in call && (call.params === null || typeof call.params !== 'object')) {
    return '"params" must be an array or an object'
  }
  if ('id' in call && !checkId.Check(call.id)) return '"id" must be a string, a number or null'
  const first = checkCall.Errors(value).First()
  return first ? `${first.path || 'call'}: ${first.message}` : 'not a valid call'
}
