import process from 'node:process'
import type { Cache } from '../cache/cache.ts'
import type { Shutdown } from '../lifecycle/shutdown.ts'
import { createCacheMethods } from '../management/cache-methods.ts'
import { createInstanceMethods } from '../management/instance-methods.ts'
import { createLifecycleMethods } from '../management/lifecycle-methods.ts'
import { createMetricsMethods } from '../management/metrics-methods.ts'
import { createProviderMethods } from '../management/provider-methods.ts'
import type { createObservability } from '../metrics/observability.ts'
import type { SocketCounters } from '../metrics/socket-counters.ts'
import { createLocalMethods, type LocalMethods } from '../pipeline/local-methods.ts'
import type { Prefetcher } from '../prefetch/prefetcher.ts'
import type { ProviderPool } from '../providers/pool.ts'
import type { Provider } from '../providers/provider.ts'
import type { Registry } from '../registry/registry.ts'
import type { createFilterMethods } from '../streams/filters.ts'
import type { StreamHub } from '../streams/hub.ts'
import { createStreamsMethod, createSubscriptionMethods } from '../streams/subscription-methods.ts'
import type { StateVerifier } from '../verify/state-verifier.ts'
import { verificationView } from '../verify/verification-view.ts'
import { VERSION } from '../version.ts'
import type { SharedTierPart } from './shared-tier-part.ts'

export type LocalMethodParts = {
  startedAtMs: number
  shutdown: Shutdown
  registry: Registry
  cache: Cache
  sharedTier: SharedTierPart
  providers: readonly Provider[]
  pool: Pick<ProviderPool, 'unsupported'>
  observability: ReturnType<typeof createObservability>
  hub: StreamHub
  sockets: SocketCounters
  filters: ReturnType<typeof createFilterMethods>
  prefetcher?: Prefetcher
  /** Verified state (SPEC §15); none with `--verify-state off`. */
  verifier?: StateVerifier
}

/** The methods the proxy answers itself (SPEC §4, §12), in their groups: management, subscriptions, filters. */
export function createLocalMethodsPart(parts: LocalMethodParts): LocalMethods {
  return createLocalMethods({
    management: [
      createLifecycleMethods({
        version: VERSION,
        pid: process.pid,
        startedAtMs: parts.startedAtMs,
        requestShutdown: () => parts.shutdown.begin('edb_shutdown'),
      }),
      createInstanceMethods(parts.registry),
      createCacheMethods(parts.cache, parts.sharedTier.current, {
        prefetch: parts.prefetcher?.stats,
        verification:
          parts.verifier === undefined ? undefined : () => verificationView(parts.verifier as StateVerifier),
      }),
      createProviderMethods(parts.providers, parts.pool.unsupported),
      createMetricsMethods(parts.observability.calls, parts.observability.history),
      createStreamsMethod(parts.hub, parts.sockets),
    ],
    subscriptions: [createSubscriptionMethods(parts.hub)],
    filters: [parts.filters.methods],
  })
}
