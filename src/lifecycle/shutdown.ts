import { TimeoutError, withTimeout } from '../util/with-timeout.ts'

/** Why the process is stopping. */
export type ShutdownReason =
  | 'SIGINT'
  | 'SIGTERM'
  | 'SIGHUP'
  | 'edb_shutdown'
  | 'grace-period'
  | 'startup-error'
  | 'tui-quit'

/** What stops, in order: background timers first, then the server drains, then stores flush. */
export type StopPhase = 'background' | 'flush'

/** A server that can stop accepting and let in-flight requests finish (or cut them, forced). */
export type Drainable = { stop(force: boolean): Promise<void> }

export type ShutdownOptions = {
  /** Longest the drain may take before connections are cut. */
  drainTimeoutMs: number
  log: (message: string) => void
}

const SIGNALS = new Set<ShutdownReason>(['SIGINT', 'SIGTERM', 'SIGHUP'])

/** The one graceful-stop path, for every signal, `edb_shutdown`, grace expiry and startup errors. */
export type Shutdown = {
  /** Run `step` when stopping, in `phase`; parts register as they are built. */
  onStop(phase: StopPhase, step: () => unknown): void
  /** The server to drain between the two phases. */
  drain(server: Drainable): void
  /** Begin stopping; a second signal while stopping exits at once with code 1, other repeats are ignored. */
  begin(reason: ShutdownReason, exitCode?: number): void
  readonly stopping: boolean
  /** Resolves with the reason when stopping begins (before anything stops). */
  readonly began: Promise<ShutdownReason>
  /** Resolves with the process exit code when the proxy has stopped. */
  readonly exitCode: Promise<number>
}

/**
 * SPEC §6: stop the background work, stop accepting, finish in-flight calls (their store decisions
 * are made before their answers go out), flush the cache, then resolve the exit code.
 */
export function createShutdown(options: ShutdownOptions): Shutdown {
  let resolveExit!: (code: number) => void
  const exitCode = new Promise<number>((resolve) => {
    resolveExit = resolve
  })
  let resolveBegan!: (reason: ShutdownReason) => void
  const began = new Promise<ShutdownReason>((resolve) => {
    resolveBegan = resolve
  })
  const steps: Record<StopPhase, (() => unknown)[]> = { background: [], flush: [] }
  let server: Drainable | undefined
  let stopping = false

  const drainServer = async () => {
    if (server === undefined) return
    const running = server
    try {
      await withTimeout(running.stop(false), options.drainTimeoutMs)
    } catch (error) {
      if (!(error instanceof TimeoutError)) throw error
      await running.stop(true)
    }
  }

  return {
    exitCode,
    began,
    get stopping() {
      return stopping
    },
    onStop(phase, step) {
      steps[phase].push(step)
    },
    drain(drainable) {
      server = drainable
    },
    begin(reason, code = 0) {
      if (stopping) {
        if (!SIGNALS.has(reason)) return
        options.log(`${reason} while stopping: exiting at once`)
        resolveExit(1)
        return
      }
      stopping = true
      options.log(`shutting down (${reason})`)
      resolveBegan(reason)
      void (async () => {
        for (const step of steps.background) step()
        await drainServer()
        for (const step of steps.flush) await step()
        resolveExit(code)
      })().catch((error) => {
        options.log(`shutdown failed: ${String(error)}`)
        resolveExit(1)
      })
    },
  }
}
