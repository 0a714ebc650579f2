import process from 'node:process'
import { homeDir, isProcessAlive } from './process.ts'
import type { Platform } from './types.ts'

/** Bun: `Bun.serve` and Node-style signal handlers. */
export const bunPlatform: Platform = {
  name: 'bun',
  async serve({ hostname, port, fetch, maxRequestBodySize }) {
    const server = Bun.serve({
      hostname,
      port,
      fetch,
      maxRequestBodySize,
      // Upstream timeouts bound every request; Bun's default 10 s idle timeout would cut slow traces.
      idleTimeout: 255,
    })
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
  homeDir,
}
