import type { SocketCounters } from '../../metrics/socket-counters.ts'
import type { PlatformSocket, SocketHandlers } from '../../platform/index.ts'
import type { CallContext, StreamClient } from '../../rpc/context.ts'
import type { BodyServer } from '../serve-body.ts'
import { createHeldEvents } from './held-events.ts'

export type ConnectionOptions = {
  /** The admission path shared with HTTP. */
  bodies: BodyServer
  /** Where a connection's subscriptions are dropped when it goes (the stream hub). */
  hub: { release(client: StreamClient): void }
  counters: SocketCounters
  /** Largest frame (the body limit). */
  maxFrameBytes: number
  maxSubscriptions: number
  /** Bytes queued for one client past which it is closed (1008). */
  sendQueueBytes: number
  /** The go-away of every open connection, to close them all when the proxy stops. */
  live: Set<() => void>
}

/** SPEC §12 close codes: a frame over the limit (1009), a client too slow to read (1008), the proxy stopping (1001). */
export const FRAME_TOO_LARGE = 1009
export const POLICY = 1008
export const GOING_AWAY = 1001

/**
 * One accepted connection (SPEC §12): every frame through the shared admission path, its reply
 * sent before the events of the subscriptions it created, and a bounded send queue: past it the
 * client is closed with 1008 and a reason, and nobody else waits. `base` is what the access chain
 * said about the caller at the upgrade.
 */
export function createConnection(options: ConnectionOptions, base: CallContext): SocketHandlers {
  const { counters } = options
  let socket: PlatformSocket | undefined
  let closed = false
  /** Counted from the runtime's `open` (an upgrade that fails never opens, and is never counted). */
  let counted = false
  /** Frames that arrived before the runtime said the socket is open. */
  const early: string[] = []

  const end = () => {
    if (closed) return
    closed = true
    if (counted) counters.connections -= 1
    options.live.delete(goAway)
    options.hub.release(client)
  }
  const closeWith = (code: number, reason: string) => {
    const current = socket
    end()
    current?.close(code, reason)
  }
  const goAway = () => closeWith(GOING_AWAY, 'the proxy is shutting down')

  const send = (text: string) => {
    if (closed || socket === undefined) return
    socket.send(text)
    if (socket.bufferedAmount() <= options.sendQueueBytes) return
    counters.slowClosed += 1
    closeWith(POLICY, `send queue over ${options.sendQueueBytes} bytes: the client reads too slowly`)
  }
  const held = createHeldEvents(send)
  const client: StreamClient = { deliver: held.deliver, subscribed: held.hold }
  const context: CallContext = { ...base, stream: { client, maxSubscriptions: options.maxSubscriptions } }
  const contextOf = () => context

  const serveFrame = async (text: string) => {
    if (text.length > options.maxFrameBytes) {
      counters.framesRefused += 1
      return closeWith(FRAME_TOO_LARGE, `frame over ${options.maxFrameBytes} bytes`)
    }
    const served = options.bodies.serve(text, contextOf)
    const reply = served instanceof Promise ? await served : served
    if (reply.text !== null) send(reply.text)
    // A client must know a subscription's id before its first event: the reply went first.
    if (reply.subscriptions !== undefined) held.release(reply.subscriptions)
  }

  return {
    open(opened) {
      socket = opened
      // The proxy began stopping between the upgrade and the open.
      if (closed) return opened.close(GOING_AWAY, 'the proxy is shutting down')
      counted = true
      counters.connections += 1
      counters.accepted += 1
      options.live.add(goAway)
      for (const text of early.splice(0)) void serveFrame(text)
    },
    message(text) {
      if (closed) return
      if (socket === undefined) early.push(text)
      else void serveFrame(text)
    },
    close: end,
  }
}
