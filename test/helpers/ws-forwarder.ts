/**
 * A WebSocket forwarder in front of a node's socket, to make feeds fail in ways a node will not:
 * drop every connection, refuse new ones, hold back (skip) or repeat subscription events.
 */
export type WsForwarder = {
  url: string
  /** Close every relayed connection at once (as a provider restart would). */
  dropAll(): void
  /** While true, upgrades are refused with 503. */
  refusing: boolean
  /** Drop the next `count` subscription events (a provider that skips heights). */
  skip(count: number): void
  /** While true, every subscription event is sent twice. */
  duplicating: boolean
  /** While true, subscription events are swallowed, the connection kept open (a stalled provider). */
  stalled: boolean
  /** Subscription events are held this long before they go out (a slow provider). */
  delayMs: number
  /** Subscription events relayed so far. */
  readonly relayed: number
  /** Connections accepted so far. */
  readonly accepted: number
  stop(): Promise<void>
}

type Pair = { upstream: WebSocket; pending: string[] }

export function startWsForwarder(targetUrl: string): WsForwarder {
  const pairs = new Set<Bun.ServerWebSocket<Pair>>()
  let skipping = 0
  let relayed = 0
  let accepted = 0
  const state = { refusing: false, duplicating: false, stalled: false, delayMs: 0 }
  const server = Bun.serve<Pair>({
    hostname: '127.0.0.1',
    port: 0,
    fetch(request, self) {
      if (state.refusing) return new Response('refused', { status: 503 })
      const upstream = new WebSocket(targetUrl.replace(/^http/, 'ws'))
      if (self.upgrade(request, { data: { upstream, pending: [] } })) return undefined
      upstream.close()
      return new Response('not a websocket', { status: 400 })
    },
    websocket: {
      open(ws) {
        accepted += 1
        pairs.add(ws)
        const { upstream } = ws.data
        upstream.onopen = () => {
          for (const text of ws.data.pending.splice(0)) upstream.send(text)
        }
        upstream.onmessage = (event) => {
          const text = String(event.data)
          if (!text.includes('"eth_subscription"')) return ws.send(text)
          if (state.stalled) return
          if (skipping > 0) {
            skipping -= 1
            return
          }
          relayed += 1
          const times = state.duplicating ? 2 : 1
          const send = () => {
            for (let copy = 0; copy < times; copy++) ws.send(text)
          }
          if (state.delayMs > 0) setTimeout(send, state.delayMs)
          else send()
        }
        upstream.onclose = () => ws.close()
      },
      message(ws, message) {
        const text = String(message)
        if (ws.data.upstream.readyState === WebSocket.OPEN) ws.data.upstream.send(text)
        else ws.data.pending.push(text)
      },
      close(ws) {
        pairs.delete(ws)
        ws.data.upstream.close()
      },
    },
  })
  return {
    url: `ws://127.0.0.1:${server.port}`,
    dropAll() {
      for (const ws of pairs) ws.close(1012, 'restart')
    },
    get refusing() {
      return state.refusing
    },
    set refusing(value) {
      state.refusing = value
    },
    skip(count) {
      skipping += count
    },
    get duplicating() {
      return state.duplicating
    },
    set duplicating(value) {
      state.duplicating = value
    },
    get stalled() {
      return state.stalled
    },
    set stalled(value) {
      state.stalled = value
    },
    get delayMs() {
      return state.delayMs
    },
    set delayMs(value) {
      state.delayMs = value
    },
    get relayed() {
      return relayed
    },
    get accepted() {
      return accepted
    },
    stop: () => server.stop(true),
  }
}
