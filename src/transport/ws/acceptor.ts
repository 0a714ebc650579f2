import { type AccessChain, NO_ADDRESS } from '../../access/chain.ts'
import type { SocketCounters } from '../../metrics/socket-counters.ts'
import type { ClientInfo, SocketAcceptor, SocketHandlers } from '../../platform/index.ts'
import { ForbiddenError, LimitExceededError } from '../../rpc/errors.ts'
import { errorResponse } from '../http/responses.ts'
import { type ConnectionOptions, createConnection } from './connection.ts'

export type WebSocketOptions = Omit<ConnectionOptions, 'live'> & {
  /** The rules every upgrade passes first (SPEC §13). */
  access: AccessChain
  maxConnections: number
}

/**
 * JSON-RPC over WebSocket on the HTTP port (SPEC §12): the access rules of §8 applied to the upgrade
 * (a browser's token may come as a `token` query parameter) and the connection limit, then one
 * connection (`connection.ts`) whose frames take the same admission path as an HTTP body.
 */
export function createWebSocketAcceptor(
  options: WebSocketOptions,
): SocketAcceptor & { counters: SocketCounters; closeAll(): void } {
  const { counters, access, maxConnections } = options
  const live = new Set<() => void>()
  const connectionOptions: ConnectionOptions = { ...options, live }

  const accept = (request: Request, client?: ClientInfo): Response | SocketHandlers => {
    const facts = { headers: withQueryToken(request), address: client ?? NO_ADDRESS }
    const refusal = access.refusalOf(facts)
    if (refusal !== undefined) {
      counters.refused += 1
      return errorResponse(refusal.status, new ForbiddenError(refusal.message))
    }
    if (counters.connections >= maxConnections) {
      counters.refused += 1
      return errorResponse(
        503,
        new LimitExceededError(`too many WebSocket connections: the limit is ${maxConnections}`),
      )
    }
    return createConnection(connectionOptions, access.contextOf(facts))
  }

  return {
    accept,
    maxFrameBytes: options.maxFrameBytes,
    counters,
    closeAll() {
      for (const goAway of [...live]) goAway()
    },
  }
}

/** Browsers cannot set `Authorization` on a WebSocket: a `token` query parameter stands in for it (never logged). */
function withQueryToken(request: Request): Headers {
  if (request.headers.has('authorization') || !request.url.includes('token=')) return request.headers
  const token = new URL(request.url).searchParams.get('token')
  if (token === null || token === '') return request.headers
  const headers = new Headers(request.headers)
  headers.set('authorization', `Bearer ${token}`)
  return headers
}
