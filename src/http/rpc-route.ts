import type { Proxy } from '../proxy.ts'
import { callContext, refusalOf, type AccessOptions } from './access.ts'
import { BodyTooLargeError, readBodyText } from './read-body.ts'
import { jsonErrorResponse, rpcResponse } from './responses.ts'

export type RpcRouteOptions = {
  proxy: Proxy
  access: AccessOptions
  maxBodyBytes: number
  /** Counts HTTP requests in flight. */
  activity?: { begin(): void; end(): void }
  /** The answer to an exception thrown while handling a request (logged, never shown). */
  internalError: (error: unknown) => Response
}

/**
 * `POST /`: any content type; 413 above the body limit; 204 when only notifications were sent.
 * A body answered from the reply memo needs only the refusal checks, not the caller's call context.
 */
export function createRpcRoute({ proxy, access, maxBodyBytes, activity = NO_ACTIVITY, internalError }: RpcRouteOptions) {
  return async (request: Request): Promise<Response> => {
    activity.begin()
    try {
      const refusal = refusalOf(request.headers, access)
      if (refusal !== undefined) return jsonErrorResponse(refusal.status, -32010, refusal.message)
      let text: string
      try {
        text = await readBodyText(request, maxBodyBytes)
      } catch (error) {
        if (error instanceof BodyTooLargeError) return jsonErrorResponse(413, -32600, error.message)
        throw error
      }
      const remembered = proxy.rememberedReply(text)
      if (remembered !== undefined) return rpcResponse(remembered, 'HIT')
      const reply = await proxy.handleBody(text, callContext(request.headers, access))
      return reply.text === null ? new Response(null, { status: 204 }) : rpcResponse(reply.text, reply.cache)
    } catch (error) {
      return internalError(error)
    } finally {
      activity.end()
    }
  }
}

const NO_ACTIVITY = { begin() {}, end() {} }
