import type { Proxy } from '../proxy.ts'
import { checkAccess, type AccessOptions } from './access.ts'
import { BodyTooLargeError, readBodyText } from './read-body.ts'
import { jsonErrorResponse, rpcResponse } from './responses.ts'

export type RpcRouteOptions = {
  proxy: Proxy
  access: AccessOptions
  maxBodyBytes: number
  /** Counts HTTP requests in flight. */
  activity?: { begin(): void; end(): void }
}

/** `POST /`: any content type; 413 above the body limit; 204 when only notifications were sent. */
export function createRpcRoute({ proxy, access, maxBodyBytes, activity = NO_ACTIVITY }: RpcRouteOptions) {
  return async (request: Request): Promise<Response> => {
    const decision = checkAccess(request.headers, access)
    if (decision.refusal) return jsonErrorResponse(decision.refusal.status, -32010, decision.refusal.message)
    activity.begin()
    try {
      let text: string
      try {
        text = await readBodyText(request, maxBodyBytes)
      } catch (error) {
        if (error instanceof BodyTooLargeError) return jsonErrorResponse(413, -32600, error.message)
        throw error
      }
      const remembered = proxy.rememberedReply(text)
      if (remembered !== undefined) return rpcResponse(remembered, 'HIT')
      const reply = await proxy.handleBody(text, decision.context)
      return reply.text === null ? new Response(null, { status: 204 }) : rpcResponse(reply.text, reply.cache)
    } finally {
      activity.end()
    }
  }
}

const NO_ACTIVITY = { begin() {}, end() {} }
