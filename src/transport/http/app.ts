import { Elysia } from 'elysia'
import { type AccessOptions, createFilterChain, NO_ADDRESS } from '../../access/chain.ts'
import type { HealthReport } from '../../health.ts'
import type { SocketCounters } from '../../metrics/socket-counters.ts'
import type { Pipeline } from '../../pipeline.ts'
import { ForbiddenError, InternalError, RpcError } from '../../rpc/errors.ts'
import type { StreamHub } from '../../streams/hub.ts'
import { createParseBudget } from '../parse-budget.ts'
import { createWebSocketAcceptor } from '../ws/acceptor.ts'
import { CORS_HEADERS, errorResponse, jsonResponse } from './responses.ts'
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
  streams: { hub: StreamHub; counters: SocketCounters; maxConnections: number; maxSubscriptions: number; sendQueueBytes: number }
}

/** The HTTP surface (SPEC §3): JSON-RPC on `POST /`, `GET /health`, CORS preflight. */
export function createApp(options: AppOptions) {
  const internalError = (error: unknown) => {
    options.onUnexpected(error)
    return errorResponse(500, new InternalError())
  }
  // One parse budget for both transports: bodies and frames in flight share its bound.
  const budget = createParseBudget()
  // SPEC §13: one chain of filters before the pipeline, shared by both transports.
  const filters = createFilterChain(options.access)
  const rpcRoute = createRpcRoute({ ...options, filters, internalError, budget })
  const websocket = createWebSocketAcceptor({
    pipeline: options.pipeline,
    filters,
    hub: options.streams.hub,
    budget,
    maxFrameBytes: options.maxBodyBytes,
    maxConnections: options.streams.maxConnections,
    maxSubscriptions: options.streams.maxSubscriptions,
    sendQueueBytes: options.streams.sendQueueBytes,
    counters: options.streams.counters,
    onUnexpected: options.onUnexpected,
  })
  const app = new Elysia()
    .post('/', ({ request }) => rpcRoute(request), { parse: 'none' })
    .get('/health', ({ request }) => {
      const refusal = filters.refusalOf({ headers: request.headers, address: NO_ADDRESS })
      if (refusal) return errorResponse(refusal.status, new ForbiddenError(refusal.message))
      const report = options.health()
      return jsonResponse(report.status === 'ok' ? 200 : 503, JSON.stringify(report))
    })
    .get('/metrics', async ({ request }) => {
      const refusal = filters.refusalOf({ headers: request.headers, address: NO_ADDRESS })
      if (refusal) return errorResponse(refusal.status, new ForbiddenError(refusal.message))
      return new Response(await options.metrics.text(), { headers: { 'content-type': options.metrics.contentType } })
    })
    .options('/', () => new Response(null, { status: 204, headers: CORS_HEADERS }))
    .onError(({ code, error, request }) => {
      if (code === 'NOT_FOUND') {
        // SPEC §3 (compat): another method on `/` is 405, an unknown path 404.
        if (new URL(request.url).pathname === '/') return methodNotAllowed()
        return errorResponse(404, new NotFoundError())
      }
      return internalError(error)
    })
  const elysia = app.fetch
  return {
    app,
    fetch: elysia,
    // The hot path: `POST /` goes straight to the JSON-RPC route (the runtime routes it). Elysia's
    // per-request work cost 10-20 % of cache-hit throughput (bun run bench, same run); it
    // serves every other route.
    rootPost: rpcRoute,
    websocket,
  }
}

/** An unknown path (HTTP 404). */
class NotFoundError extends RpcError {
  static override readonly code = -32601
  override name = 'NotFoundError'
  constructor() {
    super('Not found: JSON-RPC is served on POST /')
  }
}

/** Another HTTP method on `/` (HTTP 405). */
class MethodNotAllowedError extends RpcError {
  static override readonly code = -32600
  override name = 'MethodNotAllowedError'
  constructor() {
    super('Method not allowed: JSON-RPC is served on POST /')
  }
}

function methodNotAllowed(): Response {
  const response = errorResponse(405, new MethodNotAllowedError())
  response.headers.set('allow', 'POST, OPTIONS')
  return response
}
