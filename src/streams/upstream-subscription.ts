import { parseQuantity } from '../rpc/quantity.ts'

/** One `eth_subscribe` held open on one upstream WebSocket, reconnecting and resubscribing after any loss. */
export type UpstreamSubscription = {
  readonly label: string
  /** Subscribed and receiving now. */
  readonly up: boolean
  stop(): void
}

export type UpstreamSubscriptionOptions = {
  url: string
  /** The redacted URL: the only form that leaves the process. */
  label: string
  /** `eth_subscribe` params, e.g. `["newHeads"]`. */
  params: unknown[]
  onEvent(result: unknown): void
  /** Subscribed (again): the caller may check for what it missed. */
  onUp?(): void
  onDown?(reason: SourceDown): void
  /** First and longest pause before reconnecting (it doubles in between, with jitter). */
  minBackoffMs?: number
  maxBackoffMs?: number
  /** A connection that does not open, or does not confirm the subscription, within this is dropped. */
  connectTimeoutMs?: number
  /** The chain the proxy serves, once known: a socket answering another `eth_chainId` is never subscribed. */
  chainId?: () => number | undefined
}

/**
 * Why an upstream feed went down: it answered another chain than the proxy serves (never used
 * until it answers the right one), or its connection was lost or refused.
 */
export type SourceDown = { kind: 'wrong-chain'; detail: string } | { kind: 'lost'; detail: string }

const SUBSCRIBE_ID = 1
const CHAIN_ID = 2

/**
 * A feed from one provider (SPEC §12): the runtime's standard WebSocket client, one subscription
 * per connection. Any close, error, refusal or silence at connect is a reconnect after a backoff;
 * `stop` ends it for good.
 */
export function createUpstreamSubscription(options: UpstreamSubscriptionOptions): UpstreamSubscription {
  const minBackoffMs = options.minBackoffMs ?? 100
  const maxBackoffMs = options.maxBackoffMs ?? 5_000
  const connectTimeoutMs = options.connectTimeoutMs ?? 5_000
  let backoffMs = minBackoffMs
  let socket: WebSocket | undefined
  let subscription: string | undefined
  let stopped = false
  let retry: ReturnType<typeof setTimeout> | undefined

  const down = (reason: SourceDown) => {
    const wasUp = subscription !== undefined
    subscription = undefined
    socket = undefined
    options.onDown?.(wasUp ? reason : { ...reason, detail: `${reason.detail} before subscribing` })
    if (stopped) return
    const pause = backoffMs * (0.5 + Math.random() / 2)
    backoffMs = Math.min(maxBackoffMs, backoffMs * 2)
    retry = setTimeout(connect, pause)
  }

  const connect = () => {
    retry = undefined
    if (stopped) return
    let ws: WebSocket
    try {
      ws = new WebSocket(options.url)
    } catch (error) {
      return down({ kind: 'lost', detail: `cannot connect: ${error instanceof Error ? error.message : String(error)}` })
    }
    socket = ws
    let closed = false
    let wrongChain: SourceDown | undefined
    const connectTimer = setTimeout(() => {
      if (subscription === undefined) ws.close()
    }, connectTimeoutMs)
    const subscribe = () =>
      ws.send(JSON.stringify({ jsonrpc: '2.0', id: SUBSCRIBE_ID, method: 'eth_subscribe', params: options.params }))
    // SPEC §6 for sockets too: a feed is taken only from the chain the proxy serves.
    ws.onopen = () =>
      options.chainId?.() === undefined
        ? subscribe()
        : ws.send(`{"jsonrpc":"2.0","id":${CHAIN_ID},"method":"eth_chainId","params":[]}`)
    ws.onmessage = (event) => {
      let message: {
        id?: unknown
        result?: unknown
        error?: { message?: unknown }
        method?: unknown
        params?: { subscription?: unknown; result?: unknown }
      }
      try {
        message = JSON.parse(
          typeof event.data === 'string' ? event.data : new TextDecoder().decode(event.data as ArrayBuffer),
        )
      } catch {
        return
      }
      if (message.id === CHAIN_ID && subscription === undefined) {
        const expected = options.chainId?.()
        if (typeof message.result === 'string' && parseQuantity(message.result) === expected) return subscribe()
        wrongChain = {
          kind: 'wrong-chain',
          detail: `answered chain ${JSON.stringify(message.result ?? message.error?.message ?? null)}, not ${expected}`,
        }
        ws.close()
        return
      }
      if (message.id === SUBSCRIBE_ID && subscription === undefined) {
        if (typeof message.result !== 'string') {
          ws.close()
          return
        }
        clearTimeout(connectTimer)
        subscription = message.result
        backoffMs = minBackoffMs
        options.onUp?.()
        return
      }
      if (
        message.method === 'eth_subscription' &&
        message.params?.subscription === subscription &&
        subscription !== undefined
      ) {
        options.onEvent(message.params?.result)
      }
    }
    const onGone = (reason: SourceDown) => {
      if (closed) return
      closed = true
      clearTimeout(connectTimer)
      if (socket === ws) down(reason)
    }
    ws.onerror = () => onGone({ kind: 'lost', detail: 'connection error' })
    ws.onclose = (event) => onGone(wrongChain ?? { kind: 'lost', detail: `closed (${event.code})` })
  }

  connect()
  return {
    label: options.label,
    get up() {
      return subscription !== undefined
    },
    stop() {
      stopped = true
      clearTimeout(retry)
      const ws = socket
      socket = undefined
      subscription = undefined
      ws?.close()
    },
  }
}
