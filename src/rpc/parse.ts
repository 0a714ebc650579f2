import { Type } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
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
const checkId = TypeCompiler.Compile(IdSchema)

/**
 * One element of a body: a valid call, or the error to answer it with; `idJson` is the caller's id as
 * JSON text, exactly as sent (SPEC §3: byte for byte, integers beyond 2^53 included).
 */
export type ParsedCall = { call: RpcCall; idJson: string; error?: undefined } | { error: RpcError; idJson: string; call?: undefined }

/** A whole body: one call, a batch, or an error answered alone with `id: null`. */
export type ParsedBody = { kind: 'single'; entry: ParsedCall } | { kind: 'batch'; entries: ParsedCall[] } | { kind: 'invalid'; error: RpcError }

export type ParseOptions = { maxBatchSize: number }

/** Parse a request body (JSON-RPC 2.0 §4 and §6) into calls, validating each with the compiled schema. */
export function parseBody(text: string, { maxBatchSize }: ParseOptions): ParsedBody {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    return { kind: 'invalid', error: new ParseError() }
  }
  let idSources: WeakMap<object, string> | undefined
  if (needsIdSource(json, text) || MAYBE_HUGE_INTEGER.test(text)) {
    idSources = new WeakMap()
    json = parseKeepingIds(text, idSources)
  }
  if (!Array.isArray(json)) return { kind: 'single', entry: toParsedCall(json, idSources) }
  // JSON-RPC 2.0 §6: an empty batch is one invalid request, not an empty array.
  if (json.length === 0) return { kind: 'invalid', error: new InvalidRequestError('empty batch') }
  if (json.length > maxBatchSize) {
    return {
      kind: 'invalid',
      error: new InvalidRequestError(`batch of ${json.length} calls exceeds the limit of ${maxBatchSize}`),
    }
  }
  return { kind: 'batch', entries: json.map((value) => toParsedCall(value, idSources)) }
}

/** An id JSON.parse could not keep exactly: a number that is not a safe integer (`9007199254741003`, `1.50`). */
/**
 * Whether an id's text cannot be rebuilt from its parsed value: a number JSON cannot hold exactly
 * (`9007199254741003`), or an id whose plain `"id":<value>` form is not in the body (`1.0`, `1e2`,
 * `"\u0041"`, a space after the colon). One substring search per call; the rare miss parses again.
 */
function needsIdSource(json: unknown, text: string): boolean {
  const inexact = (value: unknown) => {
    if (value === null || typeof value !== 'object' || !('id' in value)) return false
    const id = (value as { id: unknown }).id
    if (typeof id === 'number' && !Number.isSafeInteger(id)) return true
    return (typeof id === 'number' || typeof id === 'string') && !containsMember(text, `"id":${JSON.stringify(id)}`)
  }
  return Array.isArray(json) ? json.some(inexact) : inexact(json)
}

/** Whether `member` stands in `text` as a whole member: followed by `,`, `}` or white space (`"id":1` is not in `"id":1.0`). */
function containsMember(text: string, member: string): boolean {
  for (let at = text.indexOf(member); at !== -1; at = text.indexOf(member, at + 1)) {
    const next = text.charCodeAt(at + member.length)
    if (next === 0x2c || next === 0x7d || next === 0x20 || next === 0x0a || next === 0x0d || next === 0x09) return true
  }
  return false
}

/**
 * Parse again, seeing source text, and keep every numeric `id` member's text by the object that
 * holds it (rare: only bodies with an inexact id pay for this second parse).
 */
function parseKeepingIds(text: string, sources: WeakMap<object, string>): unknown {
  return JSON.parse(text, function (this: object, key: string, value: unknown, context?: { source?: string }) {
    const source = context?.source
    if (source === undefined) return value
    if (key === 'id' && (typeof value === 'number' || typeof value === 'string')) sources.set(this, source)
    // SPEC §3: an integer past 2^53 inside params reaches the upstream with every digit (JSON.rawJSON serializes as written).
    else if (typeof value === 'number' && !Number.isSafeInteger(value) && INTEGER.test(source)) return rawJson(source)
    return value
  } as (key: string, value: unknown) => unknown)
}

/** Sixteen digits in a row: the body may hold an integer JSON numbers cannot keep (2^53 has 16). */
const MAYBE_HUGE_INTEGER = /\d{16}/
const INTEGER = /^-?\d+$/
const rawJson = (JSON as unknown as { rawJSON: (text: string) => unknown }).rawJSON

/** Validate one call; a cheap boolean check first, details only on failure. */
export function toParsedCall(value: unknown, idSources?: WeakMap<object, string>): ParsedCall {
  if (checkCall.Check(value)) {
    const call = value as RpcCall & { params?: unknown }
    if (call.params === null) delete call.params
    const idJson = idSources?.get(call) ?? JSON.stringify(call.id ?? null)
    if (call.params === undefined || !nestedDeeperThan(call.params, MAX_PARAMS_DEPTH)) return { call: call as RpcCall, idJson }
    return { error: new InvalidRequestError(`"params" nested deeper than ${MAX_PARAMS_DEPTH} levels`), idJson }
  }
  const id = recoverId(value)
  return {
    error: new InvalidRequestError(describeInvalid(value)),
    idJson: (value !== null && typeof value === 'object' && idSources?.get(value)) || JSON.stringify(id),
  }
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
