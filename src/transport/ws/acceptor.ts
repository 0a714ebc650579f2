import { type FilterChain, NO_ADDRESS } from '../../access/chain.ts'
import { createSocketCounters, type SocketCounters } from '../../metrics/socket-counters.ts'
import type { Pipeline } from '../../pipeline.ts'
import type { ClientInfo, PlatformSocket, SocketAcceptor, SocketHandlers } from '../../platform/index.ts'
import type { CallContext, StreamClient } from '../../rpc/context.ts'
import { errorOutcome, ForbiddenError, InternalError, LimitExceededError } from '../../rpc/errors.ts'
import { toReplyText } from '../../rpc/reply.ts'
import type { StreamHub } from '../../streams/hub.ts'
import { errorResponse } from '../http/responses.ts'
import type { ParseBudget } from '../parse-budget.ts'

export type WebSocketOptions = {
  pipeline: Pipeline
  /** The filters every upgrade passes first (SPEC §13). */
  filters: FilterChain
  hub: StreamHub
  budget: ParseBudget
  /** Largest frame (the body limit). */
  maxFrameBytes: number
  maxConnections: number
  maxSubscriptions: number
  /** Bytes queued for one client past which it is closed (1008). */
  sendQueueBytes: number
  onUnexpected: (error: unknown) => void
  /** Where the transport counts (shared with `/metrics` and `edb_streams`). */
  counters?: SocketCounters
}

/** SPEC §12 close codes: a frame over the limit (1009), a client too slow to read (1008). */
const FRAME_TOO_LARGE = 1009
const POLICY = 1008
const GOING_AWAY = 1001

/**
 * JSON-RPC over WebSocket on the HTTP port (SPEC §12): the access rules of §8 applied to the upgrade
 * (a browser's token may come as a `token` query parameter), then every frame through the same
 * pipeline as an HTTP body, its subscriptions delivered to this connection. Each connection's send
 * queue is bounded: past it the client is closed with 1008 and a reason, and nobody else waits.
 */
export function createWebSocketAcceptor(options: WebSocketOptions): SocketAcceptor & { counters: SocketCounters; closeAll(): void } {
  const counters = options.counters ?? createSocketCounters()
  /** Open connections, to close them when the proxy stops. */
  const open = new Set<() => void>()

  const accept = (request: Request, client?: ClientInfo): Response | SocketHandlers => {
    const headers = withQueryToken(request)
    const facts = { headers, address: client ?? NO_ADDRESS }
    const refusal = options.filters.refusalOf(facts)
    if (refusal !== undefined) {
      counters.refused += 1
      return errorResponse(refusal.status, new ForbiddenError(refusal.message))
    }
    if (counters.connections >= options.maxConnections) {
      counters.refused += 1
      return errorResponse(503, new LimitExceededError(`too many WebSocket connections: the limit is ${options.maxConnections}`))
    }
    return connection(options.filters.contextOf(facts))
  }

  const connection = (base: CallContext): SocketHandlers => {
    let socket: PlatformSocket | undefined
    let closed = false
    /** Frames that arrived before the runtime said the socket is open. */
    const early: string[] = []

    /** Counted from the runtime's `open` (an upgrade that fails never opens, and is never counted). */
    let counted = false
    const end = () => {
      if (closed) return
      closed = true
      if (counted) counters.connections -= 1
      open.delete(goAway)
      options.hub.release(client)
    }
    const goAway = () => {
      const current = socket
      end()
      current?.close(GOING_AWAY, 'the proxy is shutting down')
    }

    /** Subscriptions made by a frame whose reply is not sent yet: their events wait (a client must know the id first). */
    const held = new Map<string, string[]>()

    const send = (text: string) => {
      if (closed || socket === undefined) return
      socket.send(text)
      if (held.size > 0) release(text)
      if (socket.bufferedAmount() <= options.sendQueueBytes) return
      counters.slowClosed += 1
      const current = socket
      end()
      current.close(POLICY, `send queue over ${options.sendQueueBytes} bytes: the client reads too slowly`)
    }

    /** Once a reply naming a held subscription is out, its waiting events follow, in order. */
    const release = (reply: string) => {
      for (const [id, waiting] of [...held]) {
        if (!reply.includes(id)) continue
        held.delete(id)
        for (const text of waiting) send(text)
      }
    }

    const client: StreamClient = {
      deliver(id, resultJson) {
        const text = `{"jsonrpc":"2.0","method":"eth_subscription","params":{"subscription":"${id}","result":${resultJson}}}`
        const waiting = held.get(id)
        if (waiting === undefined) send(text)
        else waiting.push(text)
      },
      subscribed: (id) => void held.set(id, []),
    }
    const context: CallContext = { ...base, stream: { client, maxSubscriptions: options.maxSubscriptions } }

    const handleFrame = async (text: string) => {
      if (text.length > options.maxFrameBytes) {
        counters.framesRefused += 1
        const current = socket
        end()
        current?.close(FRAME_TOO_LARGE, `frame over ${options.maxFrameBytes} bytes`)
        return
      }
      const admitted = options.budget.admit(text)
      if (admitted.error !== undefined) return send(toReplyText('null', errorOutcome(admitted.error)))
      try {
        const pending = options.pipeline.handle(text, () => context)
        const reply = pending instanceof Promise ? await pending : pending
        if (reply.text !== null) send(reply.text)
      } catch (error) {
        options.onUnexpected(error)
        send(toReplyText('null', errorOutcome(new InternalError())))
      } finally {
        options.budget.release(admitted.cost)
      }
    }

    return {
      open(opened) {
        socket = opened
        // The proxy began stopping between the upgrade and the open.
        if (closed) return opened.close(GOING_AWAY, 'the proxy is shutting down')
        counted = true
        counters.connections += 1
        counters.accepted += 1
        open.add(goAway)
        for (const text of early.splice(0)) void handleFrame(text)
      },
      message(text) {
        if (closed) return
        if (socket === undefined) early.push(text)
        else void handleFrame(text)
      },
      close: end,
    }
  }

  return {
    accept,
    maxFrameBytes: options.maxFrameBytes,
    counters,
    closeAll() {
      for (const goAway of [...open]) goAway()
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
