import process from 'node:process'
import { homeDir, isProcessAlive, isThreadId } from './process.ts'
import { type SqliteValue, withTransaction } from './sqlite.ts'
import { ListenError, type Platform } from './types.ts'

/** Bun: `Bun.serve` and Node-style signal handlers. */
export const bunPlatform: Platform = {
  name: 'bun',
  async serve({ hostname, port, fetch, rootPost }) {
    let server: ReturnType<typeof Bun.serve>
    try {
      server = Bun.serve({
        hostname,
        port,
        fetch,
        // Bun's native router matches `POST /` without building the URL in JavaScript.
        ...(rootPost ? { routes: { '/': { POST: rootPost } } } : {}),
        // The app enforces its own body limit with a JSON-RPC 413 (SPEC §3): the runtime's bare one must never answer first.
        maxRequestBodySize: Number.MAX_SAFE_INTEGER,
        // Upstream timeouts bound every request; Bun's default 10 s idle timeout would cut slow traces.
        idleTimeout: 255,
      })
    } catch (error) {
      const reason = (error as { code?: string }).code === 'EADDRINUSE' ? 'the address is already in use' : String(error)
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
          get: (...params) => (statement.get(...(params as never[])) as Record<string, SqliteValue> | null) ?? undefined,
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
