import { createCache } from './cache/cache.ts'
import { createRealtimeCache } from './cache/realtime-ttl.ts'
import type { ServerOptions } from './config/schema.ts'
import { readTlsFiles } from './config/tls.ts'
import { createShutdown, type Shutdown, type ShutdownReason } from './lifecycle/shutdown.ts'
import { createObservability } from './metrics/observability.ts'
import { createSocketCounters } from './metrics/socket-counters.ts'
import { isInstanceAlive, isThreadOfAnother as isThread } from './registry/liveness.ts'
import { createRegistry } from './registry/registry.ts'
import { announceListening } from './startup/announce.ts'
import { createAppPart } from './startup/app-part.ts'
import { openCacheWhenKnown } from './startup/cache-opening.ts'
import { createChainPart } from './startup/chain-part.ts'
import { createDataPath, createPipelinePart, logUnexpected } from './startup/data-path.ts'
import { createHousekeeping } from './startup/housekeeping.ts'
import { runLifecycle } from './startup/lifecycle-part.ts'
import { createLocalMethodsPart } from './startup/local-methods-part.ts'
import { createProvidersPart } from './startup/providers-part.ts'
import { serveApp } from './startup/serve.ts'
import { createSharedTierPart } from './startup/shared-tier-part.ts'
import { createStreamPart } from './startup/stream-part.ts'
import { createVerifyPart } from './startup/verify-part.ts'
import { createFilterMethods } from './streams/filters.ts'
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
  const core = buildCore(options, shutdown)
  const local = createLocalMethodsPart({ ...core, startedAtMs, shutdown })
  const pipeline = createPipelinePart(options, { ...core, local })
  const appParts = { ...core, pipeline, startedAtMs, stopping: shutdown.began, onUnexpected: logUnexpected }
  const app = createAppPart(options, appParts)
  const served = () => core.observability.calls.served
  const housekeeping = createHousekeeping(options, { registry: core.registry, served, shutdown })
  const { server, url } = await serveApp(options, app, tls)
  const { sharedTier, filters, hub, chain, pool, observability, cache, cacheOpened } = core
  const closeSockets = { stop: app.websocket.closeAll }
  const stopping = [
    sharedTier,
    housekeeping,
    closeSockets,
    filters,
    hub,
    chain,
    pool.health,
    pool.history,
    observability.history,
  ]
  const starting = [observability.history, housekeeping]
  const flush = () => cache.close()
  const parts = { shutdown, chain, afterChainKnown: pool.health, starting, stopping, server, flush, cacheOpened }
  runLifecycle(parts, { handleSignals })
  announceListening(options, url, core.providers.length)
  const cacheReady = cacheOpened.then(
    () => {},
    () => {},
  )
  const refreshChain = () => chain.refresh()
  const stop = (reason: ShutdownReason) => shutdown.begin(reason)
  return { url, port: server.port, exitCode: shutdown.exitCode, shutdown: stop, refreshChain, cacheReady }
}

/** The core, in dependency order: providers, caches, the chain, the registry, the data path, the streams, the metrics. */
function buildCore(options: ServerOptions, shutdown: Shutdown) {
  const pool = createProvidersPart(options)
  const providers = pool.providers
  const cache = createCache({ maxItems: options.maxCacheItems, maxMemoryBytes: options.maxCacheBytes })
  const realtime =
    options.realtimeTtlMs === undefined ? undefined : createRealtimeCache({ ttls: options.realtimeTtlMs })
  const sharedTier = createSharedTierPart(options)
  const chain = createChainPart(options, pool, () => {
    cache.invalidate()
    realtime?.clear()
  })
  const chainId = () => chain.info?.chainId
  const isAlive = isInstanceAlive
  const registry = createRegistry({
    heartbeatIntervalS: options.heartbeatInterval,
    maxInstances: MAX_INSTANCES,
    isAlive,
    isThread,
  })
  const stopping = () => shutdown.stopping
  const cacheOpened = openCacheWhenKnown(options, { chain, cache, pool, sharedTier, stopping })
  const verifier = createVerifyPart(options, pool, chain, cache)
  const { resolve, internal, prefetcher } = createDataPath(options, {
    pool,
    cache,
    chain,
    cacheOpened,
    realtime,
    sharedTier,
    verifier,
  })
  const hub = createStreamPart(options, internal, chain)
  const filters = createFilterMethods({ hub, getLogs: internal.getLogs })
  const sockets = createSocketCounters()
  const perClient = Object.keys(options.authTokens ?? {}).length > 0
  const streams = () => ({ stats: hub.stats(), sockets })
  const sharedCache = sharedTier.status
  const prefetch = prefetcher?.stats
  const verification = verifier?.counts
  const observability = createObservability({
    providers,
    cache,
    registry,
    streams,
    sharedCache,
    prefetch,
    verification,
    perClient,
  })
  pool.watch({ attempt: observability.onAttempt })
  return {
    pool,
    providers,
    cache,
    sharedTier,
    chain,
    chainId,
    registry,
    cacheOpened,
    resolve,
    hub,
    filters,
    sockets,
    observability,
    prefetcher,
    verifier,
  }
}
