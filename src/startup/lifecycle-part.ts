import type { Chain } from '../chain/chain.ts'
import type { Drainable, Shutdown } from '../lifecycle/shutdown.ts'
import { platform } from '../platform/index.ts'
import { log } from '../util/log.ts'

export type LifecycleParts = {
  shutdown: Shutdown
  chain: Pick<Chain, 'start' | 'known' | 'info'>
  /** Started once the chain is known (the health checker: it verifies chain ids). */
  afterChainKnown: { start(): void }
  /** Background work started now, in order (chain detection last). */
  starting: { start(): void }[]
  /** Background work stopped first when the proxy stops, in order. */
  stopping: { stop(): void }[]
  server: Drainable
  /** Flushed last, after the server drained (the cache). */
  flush: () => unknown
  cacheOpened: Promise<unknown>
}

/**
 * What runs and stops when (SPEC §6): background parts start once the server listens, chain
 * detection begins (binding comes first, SPEC §3); a stop ends the background, drains the server,
 * then flushes. A startup failure (detection, or the cache failing to open) stops the proxy with
 * exit code 1, said once.
 */
export function runLifecycle(parts: LifecycleParts, { handleSignals }: { handleSignals: boolean }): void {
  const { shutdown, chain } = parts
  shutdown.onStop('background', () => {
    for (const part of parts.stopping) part.stop()
  })
  shutdown.drain(parts.server)
  shutdown.onStop('flush', parts.flush)
  for (const part of parts.starting) part.start()
  chain.start()
  const failed = (error: Error) => {
    if (shutdown.stopping) return
    log.error(`startup failed: ${error.message}`)
    shutdown.begin('startup-error', 1)
  }
  chain.known.then(() => {
    if (!shutdown.stopping) parts.afterChainKnown.start()
  }, failed)
  // A cache that cannot open is a startup failure once the chain is known (before, detection's own failure is reported).
  parts.cacheOpened.catch((error: Error) => {
    if (chain.info !== undefined) failed(error)
  })
  if (handleSignals) platform.onSignal(['SIGINT', 'SIGTERM', 'SIGHUP'], (signal) => shutdown.begin(signal))
}
