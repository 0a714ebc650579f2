import { createCache } from './cache/cache.ts'
import { createRealtimeCache } from './cache/realtime-ttl.ts'
import type { ServerOptions } from './config/schema.ts'
import { readTlsFiles } from './config/tls.ts'
import { createGracePeriod } from './lifecycle/grace-period.ts'
import { createIdleCollector } from './lifecycle/idle-collector.ts'
import { createShutdown, type ShutdownReason } from './lifecycle/shutdown.ts'
import { createObservability } from './metrics/observability.ts'
import { createSocketCounters } from './metrics/socket-counters.ts'
import { platform } from './platform/index.ts'
import { isInstanceAlive, isThreadOfAnother as isThread } from './registry/liveness.ts'
import { createRegistry } from './registry/registry.ts'
import { announceListening } from './startup/announce.ts'
import { createAppPart } from './startup/app-part.ts'
import { openCacheWhenKnown } from './startup/cache-opening.ts'
import { createChainPart } from './startup/chain-part.ts'
import { createDataPath, createPipelinePart, logUnexpected } from './startup/data-path.ts'
import { runLifecycle } from './startup/lifecycle-part.ts'
import { createLocalMethodsPart } from './startup/local-methods-part.ts'
import { createProvidersPart } from './startup/providers-part.ts'
import { serveApp } from './startup/serve.ts'
import { createSharedTierPart } from './startup/shared-tier-part.ts'
import { createStreamPart } from './startup/stream-part.ts'
import { createFilterMethods } from './streams/filters.ts'
import { every } from './util/every.ts'
import { log } from './util/log.ts'

/** A running proxy. */
export type ServerHandle = {
  url: string
  port: number
  /** Resolves with the exit code once the proxy has stopped. */
  exitCode: Promise<number>
  shutdown(reason: ShutdownReason): void
  /** Resolves once the cache is open for the detected chain (or startup failed). */
  cacheReady: Promise<void>
  /** Refresh what the proxy knows of the chain's head and finality now (for embedding and tests). */
  refreshChain(): Promise<void>
}

export type StartOptions = {
  /** Install SIGINT/SIGTERM/SIGHUP handlers (the CLI does; in-process tests do not). */
  handleSignals?: boolean
}

const SWEEP_INTERVAL_MS = 1_000
const DRAIN_TIMEOUT_MS = 10_000
const MAX_INSTANCES = 1_024

/**
 * The composition root: every part built once, in dependency order, from its slice of the options
 * (the policies live in the parts and in `startup/`); then the server binds, and the lifecycle
 * starts chain detection (SPEC §3: binding comes first).
 */
export async function startServer(
  options: ServerOptions,
  { handleSignals = false }: StartOptions = {},
): Promise<ServerHandle> {
  const startedAtMs = Date.now()
  // Checked before anything starts: a bad file is a one-line startup error naming it.
  const tls = readTlsFiles(options.tlsCert, options.tlsKey)
  const shutdown = createShutdown({ drainTimeoutMs: DRAIN_TIMEOUT_MS, log: (message) => log.info(message) })
  const pool = createProvidersPart(options)
  const cache = createCache({ maxItems: options.maxCacheItems, maxMemoryBytes: options.maxCacheBytes })
  const realtime =
    options.realtimeTtlMs === undefined ? undefined : createRealtimeCache({ ttls: options.realtimeTtlMs })
  const sharedTier = createSharedTierPart(options)
  const chain = createChainPart(options, pool, () => {
    cache.invalidate()
    realtime?.clear()
  })
  const registry = createRegistry({
    heartbeatIntervalS: options.heartbeatInterval,
    maxInstances: MAX_INSTANCES,
    isAlive: isInstanceAlive,
    isThread,
  })
  const cacheOpened = openCacheWhenKnown(options, { chain, cache, pool, sharedTier, stopping: () => shutdown.stopping })
  const { resolve, internal } = createDataPath(options, { pool, cache, chain, cacheOpened, realtime, sharedTier })
  const hub = createStreamPart(options, internal, chain)
  const filters = createFilterMethods({ hub, getLogs: internal.getLogs })
  const sockets = createSocketCounters()
  const perClient = Object.keys(options.authTokens ?? {}).length > 0
  const streams = () => ({ stats: hub.stats(), sockets })
  const observability = createObservability({
    providers: pool.providers,
    cache,
    registry,
    streams,
    sharedCache: sharedTier.status,
    perClient,
  })
  pool.watch({ attempt: observability.onAttempt })
  const providers = pool.providers
  const local = createLocalMethodsPart({
    startedAtMs,
    shutdown,
    registry,
    cache,
    sharedTier,
    providers,
    observability,
    hub,
    sockets,
    filters,
  })
  const pipeline = createPipelinePart(options, { resolve, local, cache, chain, sharedTier, observability })
  const chainId = () => chain.info?.chainId
  const appParts = {
    pipeline,
    providers,
    chainId,
    startedAtMs,
    sharedTier,
    observability,
    hub,
    sockets,
    stopping: shutdown.began,
    onUnexpected: logUnexpected,
  }
  const app = createAppPart(options, appParts)
  const grace = createGracePeriod({
    gracePeriodS: options.gracePeriod,
    registry,
    onExpire: () => shutdown.begin('grace-period'),
  })
  const idleCollector = createIdleCollector({
    served: () => observability.calls.served,
    collect: platform.collectGarbage,
  })
  const { server, url } = await serveApp(options, app, tls)
  const sweeper = every(SWEEP_INTERVAL_MS, () => registry.sweep(), { keepAlive: true })
  const stopping = [
    sharedTier,
    sweeper,
    grace,
    idleCollector,
    { stop: app.websocket.closeAll },
    filters,
    hub,
    chain,
    pool.health,
    observability.history,
  ]
  const starting = [observability.history, grace, idleCollector]
  runLifecycle(
    {
      shutdown,
      chain,
      afterChainKnown: pool.health,
      starting,
      stopping,
      server,
      flush: () => cache.close(),
      cacheOpened,
    },
    { handleSignals },
  )
  announceListening(options, url, providers.length)
  return {
    url,
    port: server.port,
    exitCode: shutdown.exitCode,
    shutdown: (reason) => shutdown.begin(reason),
    refreshChain: () => chain.refresh(),
    cacheReady: cacheOpened.then(
      () => {},
      () => {},
    ),
  }
}
