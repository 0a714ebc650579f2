import { Type } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { scanBodySource } from './body-source.ts'
import { InvalidRequestError, ParseError, type RpcError } from './errors.ts'
import type { JsonRpcId, RpcCall } from './types.ts'

const IdSchema = Type.Union([Type.String(), Type.Number(), Type.Null()])

/**
 * JSON-RPC 2.0 §4: the request object; `params` is structured (array or object) when present.
 * `"params": null` is taken as absent (SPEC §3: clients built on alloy send it, and nodes accept it).
 */
export const RpcCallSchema = Type.Object({
  jsonrpc: Type.Literal('2.0'),
  method: Type.String({ minLength: 1, maxLength: 256 }),
  params: Type.Optional(Type.Union([Type.Array(Type.Unknown()), Type.Object({}), Type.Null()])),
  id: Type.Optional(IdSchema),
})

const checkCall = TypeCompiler.Compile(RpcCallSchema)
const checkManagementCall = TypeCompiler.Compile(
  Type.Object({ ...RpcCallSchema.properties, params: Type.Optional(Type.Unknown()) }),
)
const checkId = TypeCompiler.Compile(IdSchema)

/**
 * One element of a body: a valid call, or the error to answer it with; `idJson` is the caller's id as
 * JSON text, exactly as sent (SPEC §3: byte for byte, integers beyond 2^53 included).
 */
export type ParsedCall =
  | { call: RpcCall; idJson: string; error?: undefined }
  | { error: RpcError; idJson: string; call?: undefined }

/** A whole body: one call, a batch, or an error answered alone with `id: null`. */
export type ParsedBody =
  | { kind: 'single'; entry: ParsedCall }
  | { kind: 'batch'; entries: ParsedCall[] }
  | { kind: 'invalid'; error: RpcError }

export type ParseOptions = { maxBatchSize: number }

/**
 * Parse a request body (JSON-RPC 2.0 §4 and §6) into calls, validating each with the compiled schema.
 * SPEC §3: linear in the body's bytes for every shape; the empty batch and the batch cap are
 * checked before any per-call work.
 */
export function parseBody(text: string, { maxBatchSize }: ParseOptions): ParsedBody {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    return { kind: 'invalid', error: new ParseError() }
  }
  if (Array.isArray(json)) {
    // JSON-RPC 2.0 §6: an empty batch is one invalid request, not an empty array.
    if (json.length === 0) return { kind: 'invalid', error: new InvalidRequestError('empty batch') }
    if (json.length > maxBatchSize) {
      return {
        kind: 'invalid',
        error: new InvalidRequestError(`batch of ${json.length} calls exceeds the limit of ${maxBatchSize}`),
      }
    }
  }
  const source = scanBodySource(text)
  if (source.longNumber) json = parseKeepingLongIntegers(text)
  if (!Array.isArray(json)) return { kind: 'single', entry: toParsedCall(json, source.ids[0]) }
  return { kind: 'batch', entries: json.map((value, index) => toParsedCall(value, source.ids[index])) }
}

/**
 * Parse again, seeing source text (only bodies with a number of 16 digits or more outside strings
 * pay for this): SPEC §3, an integer past 2^53 inside params reaches the upstream with every digit
 * (`JSON.rawJSON` serializes as written).
 */
function parseKeepingLongIntegers(text: string): unknown {
  return JSON.parse(text, (key: string, value: unknown, context?: { source?: string }) => {
    const source = context?.source
    // A call's id stays a number: its text is echoed from the scan, and the schema checks its type.
    if (
      key === 'id' ||
      typeof value !== 'number' ||
      source === undefined ||
      Number.isSafeInteger(value) ||
      !INTEGER.test(source)
    )
      return value
    return rawJson(source)
  })
}

const INTEGER = /^-?\d+$/
const rawJson = (JSON as unknown as { rawJSON: (text: string) => unknown }).rawJSON

/** Validate one call; a cheap boolean check first, details only on failure. `idSource`: its id as written, when known. */
export function toParsedCall(value: unknown, idSource?: string): ParsedCall {
  if (checkCall.Check(value) || isManagementCall(value)) {
    const call = value as RpcCall & { params?: unknown }
    if (call.params === null) delete call.params
    const idJson = call.id === undefined ? 'null' : (idSource ?? JSON.stringify(call.id))
    if (call.params === undefined || !nestedDeeperThan(call.params, MAX_PARAMS_DEPTH))
      return { call: call as RpcCall, idJson }
    return { error: new InvalidRequestError(`"params" nested deeper than ${MAX_PARAMS_DEPTH} levels`), idJson }
  }
  const id = recoverId(value)
  return {
    error: new InvalidRequestError(describeInvalid(value)),
    idJson: id === null ? 'null' : (idSource ?? JSON.stringify(id)),
  }
}

/**
 * The proxy's own `edb_*` methods judge their params themselves, whatever their shape (SPEC §4,
 * compat: `edb_deleteCache` with `"params": "x"` answers the result `{success:false, error}`, as the
 * reference does, not a framing error). Asked only when the strict check failed.
 */
function isManagementCall(value: unknown): boolean {
  const method = (value as { method?: unknown } | null)?.method
  return typeof method === 'string' && method.startsWith('edb_') && checkManagementCall.Check(value)
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
  if ('params' in call && call.params !== null && typeof call.params !== 'object') {
    return '"params" must be an array or an object'
  }
  if ('id' in call && !checkId.Check(call.id)) return '"id" must be a string, a number or null'
  const first = checkCall.Errors(value).First()
  return first ? `${first.path || 'call'}: ${first.message}` : 'not a valid call'
}
