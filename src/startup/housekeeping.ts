import type { ServerOptions } from '../config/schema.ts'
import { createGracePeriod } from '../lifecycle/grace-period.ts'
import { createIdleCollector } from '../lifecycle/idle-collector.ts'
import type { Shutdown } from '../lifecycle/shutdown.ts'
import { platform } from '../platform/index.ts'
import type { Registry } from '../registry/registry.ts'
import { type Every, every } from '../util/every.ts'

const SWEEP_INTERVAL_MS = 1_000

/**
 * The proxy's own upkeep while it serves (SPEC §6): the registry swept of gone debuggers every
 * second, the grace period that stops the proxy once the last one is gone, and the idle collector.
 */
export function createHousekeeping(
  options: Pick<ServerOptions, 'gracePeriod'>,
  parts: { registry: Registry; served: () => number; shutdown: Shutdown },
): { start(): void; stop(): void } {
  const { registry, shutdown } = parts
  const grace = createGracePeriod({
    gracePeriodS: options.gracePeriod,
    registry,
    onExpire: () => shutdown.begin('grace-period'),
  })
  const idleCollector = createIdleCollector({ served: parts.served, collect: platform.collectGarbage })
  let sweeper: Every | undefined
  return {
    start() {
      sweeper = every(SWEEP_INTERVAL_MS, () => registry.sweep(), { keepAlive: true })
      grace.start()
      idleCollector.start()
    },
    stop() {
      sweeper?.stop()
      grace.stop()
      idleCollector.stop()
    },
  }
}
