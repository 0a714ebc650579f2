import { Elysia } from 'elysia'
import { type AccessOptions, createAccessChain, NO_ADDRESS } from '../../access/chain.ts'
import type { HealthReport } from '../../health.ts'
import type { SocketCounters } from '../../metrics/socket-counters.ts'
import type { Pipeline } from '../../pipeline/index.ts'
import { ForbiddenError, MethodNotAllowedError, NotFoundError } from '../../rpc/errors.ts'
import { createParseBudget } from '../parse-budget.ts'
import { createBodyServer } from '../serve-body.ts'
import { createWebSocketAcceptor } from '../ws/acceptor.ts'
import type { ConnectionOptions } from '../ws/connection.ts'
import { CORS_HEADERS, errorResponse, jsonResponse, servedResponse } from './responses.ts'
import { createRpcRoute } from './rpc-route.ts'

export type AppOptions = {
  pipeline: Pipeline
  access: AccessOptions
  maxBodyBytes: number
  health: () => HealthReport
  /** Prometheus text for `GET /metrics`. */
  metrics: { contentType: string; text: () => Promise<string> }
  activity?: { begin(): void; end(): void }
  /** Logs an unexpected exception (details never reach the client). */
  onUnexpected: (error: unknown) => void
  /** A client hung up before its answer (logged at debug level at most). */
  onHangUp?: () => void
  /** Settles when the proxy begins stopping: bodies still arriving are no longer waited for. */
  stopping?: Promise<unknown>
  /** JSON-RPC and subscriptions over WebSocket on the same port (SPEC §12). */
  streams: {
    hub: ConnectionOptions['hub']
    counters: SocketCounters
    maxConnections: number
    maxSubscriptions: number
    sendQueueBytes: number
  }
}

/** The HTTP surface (SPEC §3): JSON-RPC on `POST /`, `GET /health`, `GET /metrics`, CORS preflight, WebSocket upgrades. */
export function createApp(options: AppOptions) {
  // One parse budget for both transports: bodies and frames in flight share its bound.
  const bodies = createBodyServer({ ...options, budget: createParseBudget() })
  // SPEC §13: one access chain before the pipeline, shared by both transports.
  const access = createAccessChain(options.access)
  const rpcRoute = createRpcRoute({ ...options, bodies, access })
  const { streams } = options
  const websocket = createWebSocketAcceptor({ ...streams, bodies, access, maxFrameBytes: options.maxBodyBytes })
  /** `GET` routes pass the same refusing rules as `POST /` (their answers say nothing to a caller refused there). */
  const refusalOf = (request: Request): Response | undefined => {
    const refusal = access.refusalOf({ headers: request.headers, address: NO_ADDRESS })
    return refusal === undefined ? undefined : errorResponse(refusal.status, new ForbiddenError(refusal.message))
  }
  const app = new Elysia()
    .post('/', ({ request }) => rpcRoute(request), { parse: 'none' })
    .get('/health', ({ request }) => {
      const refused = refusalOf(request)
      if (refused) return refused
      const report = options.health()
      return jsonResponse(report.status === 'ok' ? 200 : 503, JSON.stringify(report))
    })
    .get('/metrics', async ({ request }) => {
      const refused = refusalOf(request)
      if (refused) return refused
      return new Response(await options.metrics.text(), { headers: { 'content-type': options.metrics.contentType } })
    })
    .options('/', () => new Response(null, { status: 204, headers: CORS_HEADERS }))
    .onError(({ code, error, request }) => {
      if (code !== 'NOT_FOUND') return servedResponse(bodies.fail(error))
      // SPEC §3 (compat): another method on `/` is 405, an unknown path 404.
      if (new URL(request.url).pathname === '/') return methodNotAllowed()
      return errorResponse(404, new NotFoundError())
    })
  return {
    app,
    fetch: app.fetch,
    // The hot path: `POST /` goes straight to the JSON-RPC route (the runtime routes it). Elysia's
    // per-request work cost 10-20 % of cache-hit throughput (bun run bench, same run); it
    // serves every other route.
    rootPost: rpcRoute,
    websocket,
  }
}

function methodNotAllowed(): Response {
  const response = errorResponse(405, new MethodNotAllowedError())
  response.headers.set('allow', 'POST, OPTIONS')
  return response
}
