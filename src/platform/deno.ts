import { homeDir, isProcessAlive } from './process.ts'
import { ListenError, type Platform } from './types.ts'

declare const Deno: {
  serve(
    options: { hostname: string; port: number; onListen?: (addr: { hostname: string; port: number }) => void },
    handler: (request: Request) => Response | Promise<Response>,
  ): { addr: { hostname: string; port: number }; shutdown(): Promise<void>; finished: Promise<void> }
  addSignalListener(signal: string, handler: () => void): void
}

/** Deno: `Deno.serve` and `Deno.addSignalListener`. */
export const denoPlatform: Platform = {
  name: 'deno',
  async serve({ hostname, port, fetch }) {
    let server: ReturnType<typeof Deno.serve>
    try {
      server = Deno.serve({ hostname, port, onListen: () => {} }, fetch)
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
  homeDir,
}
