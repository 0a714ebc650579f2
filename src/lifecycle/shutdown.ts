/** Why the process is stopping. */
export type ShutdownReason = 'SIGINT' | 'SIGTERM' | 'SIGHUP' | 'edb_shutdown' | 'grace-period' | 'startup-error' | 'tui-quit'

export type ShutdownOptions = {
  /** Stop accepting and let in-flight requests finish. */
  drain: () => Promise<void>
  /** Persist what must survive (the cache). */
  flush: () => Promise<void>
  /** Longest the drain may take before connections are cut. */
  drainTimeoutMs: number
  forceStop: () => Promise<void>
  log: (message: string) => void
}

const SIGNALS = new Set<ShutdownReason>(['SIGINT', 'SIGTERM', 'SIGHUP'])

/** Graceful shutdown, once; the exit code is delivered through `exitCode`. */
export type Shutdown = {
  /** Begin stopping; a second signal while stopping exits at once with code 1, other repeats are ignored. */
  begin(reason: ShutdownReason, exitCode?: number): void
  /** Resolves with the process exit code when the proxy has stopped. */
  readonly exitCode: Promise<number>
}

/** Stop accepting, finish in-flight calls, flush, then resolve the exit code (SPEC §6). */
export function createShutdown(options: ShutdownOptions): Shutdown {
  let resolveExit!: (code: number) => void
  const exitCode = new Promise<number>((resolve) => {
    resolveExit = resolve
  })
  let stopping = false
  return {
    exitCode,
    begin(reason, code = 0) {
      if (stopping) {
        if (!SIGNALS.has(reason)) return
        options.log(`${reason} while stopping: exiting at once`)
        resolveExit(1)
        return
      }
      stopping = true
      options.log(`shutting down (${reason})`)
      void (async () => {
        let timer: ReturnType<typeof setTimeout> | undefined
        const drainTimedOut = new Promise<void>((resolve) => {
          timer = setTimeout(() => void options.forceStop().finally(resolve), options.drainTimeoutMs)
        })
        try {
          await Promise.race([options.drain(), drainTimedOut])
        } finally {
          clearTimeout(timer)
        }
        await options.flush()
        resolveExit(code)
      })().catch((error) => {
        options.log(`shutdown failed: ${String(error)}`)
        resolveExit(1)
      })
    },
  }
}
