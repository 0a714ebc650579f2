import type { SqliteDatabase } from './sqlite.ts'

/** Who is on the other end of a request, asked only when needed (the hit path never does). */
export type ClientInfo = () => string | undefined

/** What the HTTP layer needs from a runtime to serve. */
export type ServeOptions = {
  hostname: string
  port: number
  fetch: (request: Request, client: ClientInfo) => Response | Promise<Response>
  /** The hot route, `POST /`, served by the runtime's own router where it has one. */
  rootPost?: (request: Request, client: ClientInfo) => Response | Promise<Response>
  /** WebSocket upgrades on any path (the app decides), on the same port. */
  websocket?: SocketAcceptor
  /** Serve HTTPS (and WSS) with this certificate and key (PEM). */
  tls?: { cert: string; key: string }
}

/** One accepted WebSocket connection, as the runtime gives it to the app. */
export type PlatformSocket = {
  send(text: string): void
  close(code: number, reason: string): void
  /** Bytes the runtime holds for this socket, not yet written to the network. */
  bufferedAmount(): number
}

/** What the app does with one connection's events. */
export type SocketHandlers = {
  open(socket: PlatformSocket): void
  message(text: string): void
  close(code: number, reason: string): void
}

/** Decides on an upgrade request: a Response refuses it (sent as is), handlers accept it. */
export type SocketAcceptor = {
  accept(request: Request, client: ClientInfo): Response | SocketHandlers
  /** Largest frame the runtime should take (it closes with 1009 beyond, where it enforces one). */
  maxFrameBytes: number
}

/** Whether a request asks to become a WebSocket. */
export function isUpgradeRequest(request: Request): boolean {
  return request.headers.get('upgrade')?.toLowerCase() === 'websocket'
}

/** A listening server. */
export type RunningServer = {
  hostname: string
  port: number
  /** Stop accepting; with `force` false, let in-flight requests finish first. */
  stop(force: boolean): Promise<void>
}

export type ShutdownSignal = 'SIGINT' | 'SIGTERM' | 'SIGHUP'

/** The few runtime-specific calls the program makes. */
export type Platform = {
  name: 'bun' | 'deno'
  serve(options: ServeOptions): Promise<RunningServer>
  onSignal(signals: readonly ShutdownSignal[], handler: (signal: ShutdownSignal) => void): void
  /** `process.kill(pid, 0)`: true while the process exists (EPERM means it exists, but not ours). */
  isProcessAlive(pid: number): boolean
  /** Whether a live id is a thread of another process rather than a process (Linux `/proc`; else false). */
  isThreadId(pid: number): boolean
  homeDir(): string
  /**
   * Let at least `count` fetches run at once. Where the runtime caps them by a setting read only
   * at process start (Bun), the process is executed again in place (same pid, same arguments) with
   * the cap raised, and this never returns; call it before anything was opened or written.
   * Returns the cap in effect when it does return (Infinity where there is none).
   */
  allowFetches(count: number): number
  /** Run a full garbage collection now, where the runtime allows it. */
  collectGarbage(): void
  /** A Redis connection for the shared cache tier, or undefined where the runtime has no client. */
  openRedis(url: string, options: { connectTimeoutMs: number }): RedisConnection | undefined
  /** Open (creating) a SQLite database file. */
  openSqlite(path: string): Promise<SqliteDatabase>
}

/** The few Redis commands the shared tier sends (binary values for compressed entries). */
export type RedisConnection = {
  connect(): Promise<void>
  readonly connected: boolean
  getBytes(key: string): Promise<Uint8Array | null>
  set(key: string, value: Uint8Array): Promise<unknown>
  /** Any other command, e.g. `SCAN`, `UNLINK`, `DBSIZE`. */
  send(command: string, args: string[]): Promise<unknown>
  /** Called once when the connection is lost (not after `close`). */
  onLost(listener: () => void): void
  close(): void
}

/** The server could not bind (address in use, not available, permission). */
export class ListenError extends Error {
  override name = 'ListenError'
}
