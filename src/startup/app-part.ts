import type { ServerOptions } from '../config/schema.ts'
import { createHealthReporter } from '../health.ts'
import type { createObservability } from '../metrics/observability.ts'
import type { SocketCounters } from '../metrics/socket-counters.ts'
import type { Pipeline } from '../pipeline/index.ts'
import type { Provider } from '../providers/provider.ts'
import type { StreamHub } from '../streams/hub.ts'
import { createApp } from '../transport/http/app.ts'
import { log } from '../util/log.ts'
import { isLoopbackHost } from '../util/loopback.ts'
import { createOriginPolicy } from '../util/origin-policy.ts'
import type { SharedTierPart } from './shared-tier-part.ts'

type AppConfig = Pick<
  ServerOptions,
  | 'host'
  | 'adminToken'
  | 'authToken'
  | 'authTokens'
  | 'allowedOrigins'
  | 'maxBodyBytes'
  | 'wsMaxConnections'
  | 'wsMaxSubscriptions'
  | 'wsSendQueueBytes'
>

export type AppParts = {
  pipeline: Pipeline
  providers: readonly Provider[]
  chainId: () => number | undefined
  startedAtMs: number
  sharedTier: SharedTierPart
  observability: ReturnType<typeof createObservability>
  hub: StreamHub
  sockets: SocketCounters
  /** Settles when the proxy begins stopping. */
  stopping: Promise<unknown>
  onUnexpected: (error: unknown) => void
}

/** Both transports (SPEC §3, §12, §13) from their config slice: access rules, limits, `/health`, `/metrics`. */
export function createAppPart(options: AppConfig, parts: AppParts): ReturnType<typeof createApp> {
  return createApp({
    pipeline: parts.pipeline,
    access: {
      loopbackBound: isLoopbackHost(options.host),
      adminToken: options.adminToken,
      authToken: options.authToken,
      namedTokens: Object.entries(options.authTokens ?? {}),
      originAllowed: createOriginPolicy(options.allowedOrigins),
    },
    maxBodyBytes: options.maxBodyBytes,
    health: createHealthReporter({
      providers: parts.providers,
      chainId: parts.chainId,
      startedAtMs: parts.startedAtMs,
      sharedCache: () => parts.sharedTier.current()?.status().state,
    }),
    metrics: parts.observability.prometheus,
    activity: parts.observability.calls,
    onUnexpected: parts.onUnexpected,
    onHangUp: () => log.debug('a client hung up before its answer'),
    stopping: parts.stopping,
    streams: {
      hub: parts.hub,
      counters: parts.sockets,
      maxConnections: options.wsMaxConnections,
      maxSubscriptions: options.wsMaxSubscriptions,
      sendQueueBytes: options.wsSendQueueBytes,
    },
  })
}
