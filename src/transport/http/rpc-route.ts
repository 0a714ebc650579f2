import { type AccessChain, NO_ADDRESS } from '../../access/chain.ts'
import type { ClientInfo } from '../../platform/index.ts'
import type { CallContext } from '../../rpc/context.ts'
import { BodyTooLargeError, ForbiddenError, ShuttingDownError } from '../../rpc/errors.ts'
import type { BodyServer } from '../serve-body.ts'
import { createAbandonableReads } from './read-body.ts'
import { errorResponse, servedResponse } from './responses.ts'

export type RpcRouteOptions = {
  /** The admission path shared with the WebSocket transport. */
  bodies: BodyServer
  /** The rules every request passes first (SPEC §13). */
  access: AccessChain
  maxBodyBytes: number
  /** Counts HTTP requests in flight. */
  activity?: { begin(): void; end(): void }
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
  bodies,
  access,
  maxBodyBytes,
  activity = NO_ACTIVITY,
  stopping = NEVER,
}: RpcRouteOptions) {
  const readBody = createAbandonableReads(stopping)
  return async (request: Request, client?: ClientInfo): Promise<Response> => {
    activity.begin()
    try {
      const facts = { headers: request.headers, address: client ?? NO_ADDRESS }
      const refusal = access.refusalOf(facts)
      if (refusal !== undefined) return errorResponse(refusal.status, new ForbiddenError(refusal.message))
      let text: string
      try {
        text = await readBody(request, maxBodyBytes)
      } catch (error) {
        if (error instanceof BodyTooLargeError) return errorResponse(413, error)
        if (error instanceof ShuttingDownError) return errorResponse(503, error)
        throw error
      }
      let context: CallContext | undefined
      const served = bodies.serve(text, () => (context ??= access.contextOf(facts)), request)
      return servedResponse(served instanceof Promise ? await served : served)
    } catch (error) {
      return servedResponse(bodies.fail(error, request))
    } finally {
      activity.end()
    }
  }
}

const NO_ACTIVITY = { begin() {}, end() {} }
const NEVER = new Promise<never>(() => {})
