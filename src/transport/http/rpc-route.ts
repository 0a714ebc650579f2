import { type FilterChain, NO_ADDRESS } from '../../access/chain.ts'
import type { Pipeline } from '../../pipeline.ts'
import type { ClientInfo } from '../../platform/index.ts'
import type { CallContext } from '../../rpc/context.ts'
import { BodyTooLargeError, ForbiddenError, ShuttingDownError } from '../../rpc/errors.ts'
import { createParseBudget, type ParseBudget } from '../parse-budget.ts'
import { readBodyText } from './read-body.ts'
import { errorResponse, rateLimitedResponse, rpcResponse } from './responses.ts'

export type RpcRouteOptions = {
  pipeline: Pipeline
  /** The filters every request passes first (SPEC §13). */
  filters: FilterChain
  maxBodyBytes: number
  /** Counts HTTP requests in flight. */
  activity?: { begin(): void; end(): void }
  /** The answer to an exception thrown while handling a request (logged, never shown). */
  internalError: (error: unknown) => Response
  /** A client hung up before its answer: not an error of the proxy's (SPEC §3). */
  onHangUp?: () => void
  /** Memory bounds on parsing, per body and in flight. */
  budget?: ParseBudget
  /**
   * Settles when the proxy begins stopping: a body still arriving then is not waited for (a slow or
   * stalled upload must not hold a SIGTERM for the drain timeout), and is answered 503. Calls whose
   * bodies are in are finished as usual (SPEC §6).
   */
  stopping?: Promise<unknown>
}

/**
 * `POST /`: any content type; 413 above the body limit; 204 when only notifications were sent.
 * The caller's context (admin rights) is worked out only when a call needs it.
 */
export function createRpcRoute({
  pipeline,
  filters,
  maxBodyBytes,
  activity = NO_ACTIVITY,
  internalError,
  onHangUp,
  budget = createParseBudget(),
  stopping = NEVER,
}: RpcRouteOptions) {
  const readBody = createAbandonableReads(stopping)
  return async (request: Request, client?: ClientInfo): Promise<Response> => {
    activity.begin()
    let cost = 0
    try {
      const facts = { headers: request.headers, address: client ?? NO_ADDRESS }
      const refusal = filters.refusalOf(facts)
      if (refusal !== undefined) return errorResponse(refusal.status, new ForbiddenError(refusal.message))
      let text: string
      try {
        text = await readBody(request, maxBodyBytes)
      } catch (error) {
        if (error instanceof BodyTooLargeError) return errorResponse(413, error)
        if (error instanceof ShuttingDownError) return errorResponse(503, error)
        throw error
      }
      const admitted = budget.admit(text)
      if (admitted.error !== undefined) return errorResponse(admitted.status, admitted.error)
      cost = admitted.cost
      let context: CallContext | undefined
      const pending = pipeline.handle(text, () => (context ??= filters.contextOf(facts)))
      const reply = pending instanceof Promise ? await pending : pending
      if (reply.text === null) return new Response(null, { status: 204 })
      if (reply.retryAfterS !== undefined) return rateLimitedResponse(reply.text, reply.retryAfterS)
      return rpcResponse(reply.text, reply.cache, reply.provider)
    } catch (error) {
      if (request.signal.aborted) {
        onHangUp?.()
        return new Response(null, { status: 499 })
      }
      return internalError(error)
    } finally {
      budget.release(cost)
      activity.end()
    }
  }
}

const NO_ACTIVITY = { begin() {}, end() {} }
const NEVER = new Promise<never>(() => {})

/** Bodies up to this size arrive in a packet or two: read directly, with nothing to abandon (the hit path stays lean). */
const SMALL_BODY_BYTES = 64 * 1024

/**
 * Body reads that fail with `ShuttingDownError` once `stopping` settles. A large or unsized body is
 * held in a set while it is read (not raced against `stopping`, which would keep one reaction per
 * request alive until the process stops: the soak test's memory caught that).
 */
function createAbandonableReads(stopping: Promise<unknown>) {
  const reading = new Set<(error: Error) => void>()
  let stopped = false
  void stopping.then(() => {
    stopped = true
    for (const abandon of reading) abandon(new ShuttingDownError())
  })
  return (request: Request, maxBytes: number): Promise<string> => {
    if (stopped) return Promise.reject(new ShuttingDownError())
    if (Number(request.headers.get('content-length') ?? Number.NaN) <= SMALL_BODY_BYTES) return readBodyText(request, maxBytes)
    return new Promise<string>((resolve, reject) => {
      reading.add(reject)
      readBodyText(request, maxBytes).then(
        (text) => {
          reading.delete(reject)
          resolve(text)
        },
        (error) => {
          reading.delete(reject)
          reject(error)
        },
      )
    })
  }
}
