import process from 'node:process'
import { homeDir, isProcessAlive, isThreadId } from './process.ts'
import { type SqliteValue, withTransaction } from './sqlite.ts'
import { isUpgradeRequest, ListenError, type Platform, type SocketHandlers } from './types.ts'

/** What Bun keeps with each upgraded socket. */
type SocketData = { handlers: SocketHandlers }

/** Bun runs at most this many fetches at once, read from the environment at process start only. */
const FETCH_CAP_VARIABLE = 'BUN_CONFIG_MAX_HTTP_REQUESTS'
const DEFAULT_FETCH_CAP = 256
const MAX_FETCH_CAP = 65_535

/** Bun: `Bun.serve` and Node-style signal handlers. */
export const bunPlatform: Platform = {
  name: 'bun',
  async serve({ hostname, port, fetch, rootPost, websocket, tls }) {
    let server: ReturnType<typeof Bun.serve<SocketData>>
    try {
      server = Bun.serve<SocketData>({
        hostname,
        port,
        ...(tls === undefined ? {} : { tls }),
        fetch(request, self) {
          const client = () => self.requestIP(request)?.address
          if (websocket === undefined || !isUpgradeRequest(request)) return fetch(request, client)
          const decision = websocket.accept(request, client)
          if (decision instanceof Response) return decision
          if (self.upgrade(request, { data: { handlers: decision } })) return undefined
          return new Response('WebSocket upgrade failed', { status: 400 })
        },
        websocket: {
          maxPayloadLength: websocket?.maxFrameBytes ?? 16 << 20,
          // The app bounds each client's queue itself (and closes with 1008); the runtime must not drop first.
          backpressureLimit: 2 ** 31 - 1,
          open(ws) {
            ws.data.handlers.open({
              send: (text) => void ws.send(text),
              close: (code, reason) => ws.close(code, reason),
              bufferedAmount: () => ws.getBufferedAmount(),
            })
          },
          message(ws, message) {
            ws.data.handlers.message(typeof message === 'string' ? message : new TextDecoder().decode(message))
          },
          close(ws, code, reason) {
            ws.data.handlers.close(code, reason)
          },
        },
        // Bun's native router matches `POST /` without building the URL in JavaScript.
        ...(rootPost
          ? {
              routes: {
                '/': {
                  POST: (request: Request, self: Bun.Server<SocketData>) =>
                    rootPost(request, () => self.requestIP(request)?.address),
                },
              },
            }
          : {}),
        // The app enforces its own body limit with a JSON-RPC 413 (SPEC §3): the runtime's bare one must never answer first.
        maxRequestBodySize: Number.MAX_SAFE_INTEGER,
        // Upstream timeouts bound every request; Bun's default 10 s idle timeout would cut slow traces.
        idleTimeout: 255,
      })
    } catch (error) {
      const reason =
        (error as { code?: string }).code === 'EADDRINUSE' ? 'the address is already in use' : String(error)
      throw new ListenError(`cannot listen on ${hostname}:${port}: ${reason}`, { cause: error })
    }
    return {
      hostname: server.hostname ?? hostname,
      port: server.port ?? port,
      stop: (force) => server.stop(force),
    }
  },
  onSignal(signals, handler) {
    for (const signal of signals) process.on(signal, () => handler(signal))
  },
  isProcessAlive,
  isThreadId,
  homeDir,
  allowFetches(count) {
    const wanted = Math.min(MAX_FETCH_CAP, Math.max(1, Math.ceil(count)))
    const current = Number(process.env[FETCH_CAP_VARIABLE] ?? DEFAULT_FETCH_CAP)
    // An invalid value leaves Bun at its default, which NaN stands for here too.
    const inEffect = Number.isInteger(current) && current >= 1 && current <= MAX_FETCH_CAP ? current : DEFAULT_FETCH_CAP
    const execve = (
      process as { execve?: (file: string, args: string[], env: Record<string, string | undefined>) => never }
    ).execve
    if (inEffect >= wanted || execve === undefined) return inEffect
    // A compiled binary's argv[1] is its own embedded entry (its exec arguments are embedded too).
    const compiled = Bun.main.startsWith('/$bunfs/')
    const args = compiled ? process.argv.slice(2) : [...process.execArgv, ...process.argv.slice(1)]
    try {
      execve(process.execPath, [process.execPath, ...args], { ...process.env, [FETCH_CAP_VARIABLE]: String(wanted) })
    } catch {
      // Not executable again (a deleted binary, a sandbox): the caller warns and serves with the cap there is.
    }
    return inEffect
  },
  openRedis(url, { connectTimeoutMs }) {
    // Bun's built-in client: no dependency, auto-pipelined, ~80 µs a GET on loopback. No offline
    // queue and no auto-reconnect: the tier decides when to try again.
    const client = new Bun.RedisClient(url, {
      connectionTimeout: connectTimeoutMs,
      autoReconnect: false,
      enableOfflineQueue: false,
      enableAutoPipelining: true,
    })
    let closing = false
    return {
      onLost(listener) {
        client.onclose = () => {
          if (!closing) listener()
        }
      },
      connect: () => client.connect(),
      get connected() {
        return client.connected
      },
      getBytes: async (key) => {
        const value = await client.getBuffer(key)
        return value === null ? null : new Uint8Array(value)
      },
      set: (key, value) => client.set(key, value as unknown as string),
      send: (command, args) => client.send(command, args),
      close: () => {
        closing = true
        client.close()
      },
    }
  },
  collectGarbage: () => Bun.gc(true),
  async openSqlite(path) {
    // Imported lazily so the Deno build never sees `bun:sqlite`.
    const { Database } = await import('bun:sqlite')
    const db = new Database(path, { create: true, strict: true })
    const exec = (sql: string) => db.run(sql)
    const prepared: { finalize(): void }[] = []
    return {
      exec,
      prepare(sql) {
        const statement = db.prepare(sql)
        prepared.push(statement)
        return {
          get: (...params) =>
            (statement.get(...(params as never[])) as Record<string, SqliteValue> | null) ?? undefined,
          all: (...params) => statement.all(...(params as never[])) as Record<string, SqliteValue>[],
          run: (...params) => ({ changes: statement.run(...(params as never[])).changes }),
        }
      },
      transaction: (fn) => withTransaction(exec, fn),
      close: () => {
        // Finalized statements let the close complete now, checkpointing the WAL.
        for (const statement of prepared) statement.finalize()
        db.close()
      },
    }
  },
}
