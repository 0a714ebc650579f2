import type { RpcErrorObject } from '../rpc/types.ts'
import { readCapped } from '../util/read-capped.ts'
import { classifyRpcError } from './classify.ts'
import { paced } from './pacing.ts'
import type { Provider } from './provider.ts'
import {
  UpstreamBodyTooLargeError,
  UpstreamError,
  UpstreamInvalidBodyError,
  UpstreamNetworkError,
  UpstreamStatusError,
  UpstreamTimeoutError,
} from './upstream-errors.ts'

/** What one provider answered: a result as raw JSON text, a JSON-RPC error, or nothing (a notification). */
export type UpstreamAnswer =
  /** `value` is the parsed result, for the checks that compare it with the question (parsed once, here). */
  { kind: 'result'; resultJson: string; value: unknown } | { kind: 'error'; error: RpcErrorObject } | { kind: 'empty' }

export type AttemptOptions = {
  timeoutMs: number
  maxResponseBytes: number
  /** The caller's controller, to abort the attempt early (another provider answered first). */
  controller?: AbortController
  /** The call is a notification: an empty or 204 answer is a success. */
  notification?: boolean
  /** Longest the provider's request budget may hold the call before it is sent (SPEC §6). @default timeoutMs */
  maxBudgetWaitMs?: number
  /** Called once the call is on its way (after its budget's wait; alone or in a batch). */
  onSent?: () => void
}

/** The headers of every JSON-RPC POST to a provider. */
export const HEADERS = { 'content-type': 'application/json', accept: 'application/json' }

/** One POST of a JSON-RPC body to one provider, bounded in time and size. Throws `UpstreamError`s. */
export async function postToProvider(
  provider: Provider,
  bodyText: string,
  options: AttemptOptions,
): Promise<UpstreamAnswer> {
  // One controller and one timer per attempt (AbortSignal.timeout plus AbortSignal.any cost more on the hot path).
  const controller = options.controller ?? new AbortController()
  // The budget's wait is the proxy's own, before the attempt's timer starts (SPEC §6).
  const pacing = paced(provider, 1, options.maxBudgetWaitMs ?? options.timeoutMs, controller.signal)
  if (pacing !== undefined) await pacing
  options.onSent?.()
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    controller.abort()
  }, options.timeoutMs)
  try {
    const response = await fetch(provider.url, {
      method: 'POST',
      headers: HEADERS,
      body: bodyText,
      signal: controller.signal,
    })
    noteRateLimit(provider, response)
    const text = await readResponseCapped(response, options.maxResponseBytes, provider)
    return noteAnswer(provider, toAnswer(provider, response.status, text, options.notification === true))
  } catch (error) {
    if (error instanceof UpstreamError) throw error
    if (timedOut) throw new UpstreamTimeoutError(provider.label, options.timeoutMs, error)
    throw new UpstreamNetworkError(provider.label, error)
  } finally {
    clearTimeout(timer)
  }
}

/** An HTTP 429 teaches the provider's budget (SPEC §6): its `Retry-After` pauses it, and an unset budget is cut. */
export function noteRateLimit(provider: Provider, response: Response): void {
  if (response.status !== 429) return
  const retryAfter = Number(response.headers.get('retry-after') ?? Number.NaN)
  provider.budget.limited(Number.isFinite(retryAfter) && retryAfter > 0 ? Math.min(retryAfter, 60) : undefined)
}

/** A JSON-RPC answer teaches the budget too: a rate-limit error cuts it, any other answer is a call it accepted. */
export function noteAnswer(provider: Provider, answer: UpstreamAnswer): UpstreamAnswer {
  if (answer.kind === 'error' && classifyRpcError(answer.error) === 'rate-limited') provider.budget.limited()
  else provider.budget.accepted(1)
  return answer
}

/** The body's text, refused past `maxBytes` whether declared in a header or only seen while reading. */
export async function readResponseCapped(response: Response, maxBytes: number, provider: Provider): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? Number.NaN)
  if (declared > maxBytes) {
    await response.body?.cancel()
    throw new UpstreamBodyTooLargeError(provider.label, maxBytes)
  }
  if (Number.isFinite(declared) || response.body === null) return response.text()
  return readCapped(response.body, maxBytes, () => new UpstreamBodyTooLargeError(provider.label, maxBytes))
}

function toAnswer(provider: Provider, status: number, text: string, notification: boolean): UpstreamAnswer {
  if (notification && status >= 200 && status < 300 && (status === 204 || text.trim() === '')) return { kind: 'empty' }
  // 429 and 5xx are the provider's trouble whatever the body says.
  if (status === 429 || status >= 500) throw new UpstreamStatusError(provider.label, status)
  const raw = status >= 200 && status < 300 ? cutResult(text) : undefined
  if (raw !== undefined) return { kind: 'result', ...raw }
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    throw statusOr(provider, status, new UpstreamInvalidBodyError(provider.label, 'not JSON'))
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw statusOr(provider, status, new UpstreamInvalidBodyError(provider.label, 'not a JSON-RPC response object'))
  }
  if (!isRpcResponse(body) && (status < 200 || status >= 300)) throw new UpstreamStatusError(provider.label, status)
  return answerOf(provider, body)
}

/** Whether a response object carries an error object (an answer even under a 4xx status). */
function isRpcResponse(body: object): boolean {
  return isErrorObject((body as { error?: unknown }).error)
}

/** One parsed JSON-RPC response object's answer; throws `UpstreamInvalidBodyError` when it has neither result nor error. */
export function answerOf(provider: Provider, body: object): UpstreamAnswer {
  const response = body as { result?: unknown; error?: unknown }
  if (isErrorObject(response.error)) return { kind: 'error', error: response.error }
  if (!('result' in response)) throw new UpstreamInvalidBodyError(provider.label, 'neither result nor error')
  return { kind: 'result', resultJson: JSON.stringify(response.result), value: response.result }
}

const RESULT_HEAD = '{"jsonrpc":"2.0","id":'
const RESULT_KEY = ',"result":'

/**
 * The result's JSON text, cut out of an answer of the usual compact form
 * `{"jsonrpc":"2.0","id":<number>,"result":<result>}` and checked to be one JSON value; undefined
 * for any other form (the caller then parses the whole answer). Serializing the parsed result again
 * cost three quarters of the time spent on a 1 MB block; a trace can be far larger.
 */
export function cutResult(text: string): { resultJson: string; value: unknown } | undefined {
  if (!text.startsWith(RESULT_HEAD)) return undefined
  let at = RESULT_HEAD.length
  while (at < text.length && isDigit(text.charCodeAt(at))) at++
  if (at === RESULT_HEAD.length || !text.startsWith(RESULT_KEY, at)) return undefined
  let end = text.length
  while (end > 0 && isJsonSpace(text.charCodeAt(end - 1))) end--
  if (text.charCodeAt(end - 1) !== 0x7d) return undefined
  const raw = text.slice(at + RESULT_KEY.length, end - 1)
  try {
    // One value, nothing after it: no second key, no duplicate `result`, nothing the reply would break on.
    return { resultJson: raw, value: JSON.parse(raw) }
  } catch {
    return undefined
  }
}

function isDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x39
}

function isJsonSpace(code: number): boolean {
  return code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09
}

function statusOr(provider: Provider, status: number, error: Error): Error {
  return status >= 200 && status < 300 ? error : new UpstreamStatusError(provider.label, status)
}

/** Whether a value is a JSON-RPC error object (a numeric code and a message). */
export function isErrorObject(value: unknown): value is RpcErrorObject {
  if (value === null || typeof value !== 'object') return false
  const error = value as { code?: unknown; message?: unknown }
  return typeof error.code === 'number' && typeof error.message === 'string'
}
