/** A plain WebSocket JSON-RPC client for tests: calls by id, and every notification kept in order. */
export type WsClient = {
  socket: WebSocket
  /** Every `eth_subscription` notification, by subscription id, in arrival order. */
  notifications: Map<string, any[]>
  /** Every message received, parsed. */
  messages: any[]
  call(method: string, params?: unknown[]): Promise<any>
  /** Send raw text; resolves with the next message whose id is `id` (when given). */
  send(text: string, id?: unknown): Promise<any> | undefined
  /** Resolves with the close event. */
  closed: Promise<CloseEvent>
  close(): void
}

export async function connectWs(
  url: string,
  protocols?: string[] | { headers?: Record<string, string> },
): Promise<WsClient> {
  const socket = new WebSocket(url.replace(/^http/, 'ws'), protocols as never)
  const notifications = new Map<string, any[]>()
  const messages: any[] = []
  const waiting = new Map<string, (message: any) => void>()
  let nextId = 1
  socket.onmessage = (event) => {
    const message = JSON.parse(String(event.data))
    messages.push(message)
    if (message?.method === 'eth_subscription') {
      const id = message.params.subscription
      if (!notifications.has(id)) notifications.set(id, [])
      notifications.get(id)!.push(message.params.result)
      return
    }
    const key = JSON.stringify(message?.id ?? null)
    waiting.get(key)?.(message)
    waiting.delete(key)
  }
  const closed = new Promise<CloseEvent>((resolve) => socket.addEventListener('close', resolve))
  await new Promise<void>((resolve, reject) => {
    socket.onopen = () => resolve()
    socket.onerror = () => reject(new Error(`cannot connect to ${url}`))
  })
  const send = (text: string, id?: unknown) => {
    const reply = id === undefined ? undefined : new Promise<any>((resolve) => waiting.set(JSON.stringify(id), resolve))
    socket.send(text)
    return reply
  }
  return {
    socket,
    notifications,
    messages,
    call: (method, params = []) => {
      const id = nextId++
      return send(JSON.stringify({ jsonrpc: '2.0', id, method, params }), id) as Promise<any>
    },
    send,
    closed,
    close: () => socket.close(),
  }
}
