import type { ManagementMethod } from './method.ts'

export type LifecycleMethodsOptions = {
  version: string
  pid: number
  startedAtMs: number
  /** Begin a graceful shutdown after the reply has gone out. */
  requestShutdown: () => void
  now?: () => number
}

const seconds = (ms: number) => Math.floor(ms / 1000)

/** `edb_ping`, `edb_info` and `edb_shutdown`, with the reference's result shapes. */
export function createLifecycleMethods(options: LifecycleMethodsOptions): Record<string, ManagementMethod> {
  const now = options.now ?? Date.now
  return {
    edb_ping: {
      run: () => ({ status: 'ok', service: 'edb-rpc-proxy', timestamp: seconds(now()) }),
    },
    edb_info: {
      run: () => ({
        service: 'edb-rpc-proxy',
        version: options.version,
        uptime: seconds(now()) - seconds(options.startedAtMs),
        started_at: seconds(options.startedAtMs),
        pid: options.pid,
      }),
    },
    edb_shutdown: {
      run: () => {
        setTimeout(options.requestShutdown, 0)
        return { status: 'shutting_down', message: 'Server shutdown initiated' }
      },
    },
  }
}
