import { homeDir, isProcessAlive, isThreadId } from './process.ts'
import { type SqliteValue, withTransaction } from './sqlite.ts'
import { type ClientInfo, isUpgradeRequest, ListenError, type Platform } from './types.ts'

declare const Deno: {
  serve(
    options: {
      hostname: string
      port: number
      cert?: string
      key?: string
      onListen?: (addr: { hostname: string; port: number }) => void
    },
    handler: (request: Request, info: { remoteAddr?: { hostname?: string } }) => Response | Promise<Response>,
  ): { addr: { hostname: string; port: number }; shutdown(): Promise<void>; finished: Promise<void> }
  addSignalListener(signal: string, handler: () => void): void
  upgradeWebSocket(request: Request): { socket: WebSocket; response: Response }
}

/** Deno: `Deno.serve` and `Deno.addSignalListener`. */
export const denoPlatform: Platform = {
  name: 'deno',
  async serve({ hostname, port, fetch, rootPost, websocket, tls }) {
    let server: ReturnType<typeof Deno.serve>
    try {
      const http = (request: Request, client: ClientInfo) =>
        rootPost !== undefined && request.method === 'POST' && new URL(request.url).pathname === '/'
          ? rootPost(request, client)
          : fetch(request, client)
      const handler = (request: Request, info: { remoteAddr?: { hostname?: string } }) => {
        const client = () => info.remoteAddr?.hostname
        if (websocket === undefined || !isUpgradeRequest(request)) return http(request, client)
        const decision = websocket.accept(request, client)
        if (decision instanceof Response) return decision
        const { socket, response } = Deno.upgradeWebSocket(request)
        socket.onopen = () =>
          decision.open({
            send: (text) => socket.send(text),
            close: (code, reason) => socket.close(code, reason),
            bufferedAmount: () => socket.bufferedAmount,
          })
        socket.onmessage = (event) =>
          decision.message(
            typeof event.data === 'string' ? event.data : new TextDecoder().decode(event.data as ArrayBuffer),
          )
        socket.onclose = (event) => decision.close(event.code, event.reason)
        return response
      }
      server = Deno.serve({ hostname, port, ...(tls ?? {}), onListen: () => {} }, handler)
    } catch (error) {
      throw new ListenError(`cannot listen on ${hostname}:${port}: ${String(error)}`, { cause: error })
    }
    return {
      hostname: server.addr.hostname,
      port: server.addr.port,
      stop: async () => {
        await server.shutdown()
      },
    }
  },
  onSignal(signals, handler) {
    for (const signal of signals) Deno.addSignalListener(signal, () => handler(signal))
  },
  isProcessAlive,
  isThreadId,
  homeDir,
  // No Redis client is bundled for Deno: the shared tier is off there (the proxy says so at start).
  openRedis: () => undefined,
  // Deno's fetch has no process-wide cap on concurrent requests.
  allowFetches: () => Number.POSITIVE_INFINITY,
  // Deno exposes a collector only with --v8-flags=--expose-gc.
  collectGarbage: () => (globalThis as { gc?: () => void }).gc?.(),
  async openSqlite(path) {
    const { DatabaseSync } = await import('node:sqlite')
    const db = new DatabaseSync(path)
    const exec = (sql: string) => db.exec(sql)
    return {
      exec,
      prepare(sql) {
        const statement = db.prepare(sql)
        return {
          get: (...params) => statement.get(...(params as never[])) as Record<string, SqliteValue> | undefined,
          all: (...params) => statement.all(...(params as never[])) as Record<string, SqliteValue>[],
          run: (...params) => ({ changes: Number(statement.run(...(params as never[])).changes) }),
        }
      },
      transaction: (fn) => withTransaction(exec, fn),
      close: () => db.close(),
    }
  },
}
