import process from 'node:process'
import { createCache } from './cache/cache.ts'
import { openChainCache } from './cache/open-chain-cache.ts'
import { createRealtimeCache } from './cache/realtime-ttl.ts'
import { createSharedTier, type SharedTier } from './cache/shared-tier.ts'
import { createChain } from './chain/chain.ts'
import type { ServerOptions } from './config/schema.ts'
import { readTlsFiles } from './config/tls.ts'
import { createHealthReporter } from './health.ts'
import { createGracePeriod } from './lifecycle/grace-period.ts'
import { createIdleCollector } from './lifecycle/idle-collector.ts'
import { createShutdown, type ShutdownReason } from './lifecycle/shutdown.ts'
import { createSharedBuckets } from './limits/shared-buckets.ts'
import { createTokenBuckets } from './limits/token-buckets.ts'
import { createCacheMethods } from './management/cache-methods.ts'
import { createInstanceMethods } from './management/instance-methods.ts'
import { createLifecycleMethods } from './management/lifecycle-methods.ts'
import { createMetricsMethods } from './management/metrics-methods.ts'
import { createProviderMethods } from './management/provider-methods.ts'
import { createObservability } from './metrics/observability.ts'
import { createSocketCounters } from './metrics/socket-counters.ts'
import { createPipeline } from './pipeline/index.ts'
import { createInternalCalls } from './pipeline/internal-calls.ts'
import { createLocalMethods } from './pipeline/local-methods.ts'
import { createResolver } from './pipeline/resolve.ts'
import { platform } from './platform/index.ts'
import { createProviderPool } from './providers/pool.ts'
import { markUnreachable } from './providers/provider.ts'
import { createUpstreamBatching } from './providers/upstream-batch.ts'
import { isInstanceAlive, isThreadOfAnother } from './registry/liveness.ts'
import { createRegistry } from './registry/registry.ts'
import { createFilterMethods } from './streams/filters.ts'
import { createStreamHub } from './streams/hub.ts'
import { socketCandidates } from './streams/socket-candidates.ts'
import { createStreamsMethod, createSubscriptionMethods } from './streams/subscription-methods.ts'
import { createApp } from './transport/http/app.ts'
import { expandHome } from './util/expand-home.ts'
import { log } from './util/log.ts'
import { isLoopbackHost } from './util/loopback.ts'
import { createOriginPolicy } from './util/origin-policy.ts'
import { redactUrl } from './util/redact.ts'
import { VERSION } from './version.ts'

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

const CHAIN_DETECTION_TIMEOUT_MS = 5_000
const SWEEP_INTERVAL_MS = 1_000
const DRAIN_TIMEOUT_MS = 10_000
const MAX_INSTANCES = 1_024

/**
 * The composition root: every part built once, in dependency order, each given only what it
 * needs; then the server binds, and chain detection begins (SPEC §3: binding comes first).
 */
export async function startServer(options: ServerOptions, { handleSignals = false }: StartOptions = {}): Promise<ServerHandle> {
  const startedAtMs = Date.now()
  // Checked before anything starts: a bad file is a one-line startup error naming it.
  const tls = readTlsFiles(options.tlsCert, options.tlsKey)
  const shutdown = createShutdown({ drainTimeoutMs: DRAIN_TIMEOUT_MS, log: (message) => log.info(message) })
  const pool = createProviderPool({
    urls: options.rpcUrls,
    maxFailures: options.maxFailures,
    healthCheckIntervalMs: options.healthCheckInterval * 1000,
    upstreamTimeoutMs: options.upstreamTimeoutMs,
    maxResponseBytes: options.maxResponseBytes,
    slots: { concurrency: options.upstreamConcurrency, queue: options.upstreamQueue },
    warn: (message) => log.warn(message),
  })
  const cache = createCache({ maxItems: options.maxCacheItems, maxMemoryBytes: options.maxCacheBytes })
  const realtime = options.realtimeTtlMs === undefined ? undefined : createRealtimeCache({ ttls: options.realtimeTtlMs })
  const chain = createChain({
    providers: pool.providers,
    send: (call) => pool.forward(call),
    askSeveral: (call) => pool.askSeveral(call),
    chainId: options.chainId,
    devChain: options.devChain,
    finalityDepth: options.finalityDepth,
    detectionTimeoutMs: CHAIN_DETECTION_TIMEOUT_MS,
    maxDetectionPauseMs: options.healthCheckInterval * 1000,
    idleRefreshMs: options.healthCheckInterval * 1000,
    onSilent: (provider) => markUnreachable(provider, Date.now()),
    onReset: (reason) => {
      log.warn(`the development chain was restarted or reset under the proxy (${reason}): its cache is emptied`)
      cache.invalidate()
      realtime?.clear()
    },
    warn: (message) => log.warn(message),
  })
  pool.watch({ unanswered: () => chain.suspect(), head: (block) => chain.observeHead(block) })
  const registry = createRegistry({
    heartbeatIntervalS: options.heartbeatInterval,
    maxInstances: MAX_INSTANCES,
    isAlive: isInstanceAlive,
    isThread: isThreadOfAnother,
  })
  const socketCounters = createSocketCounters()
  /** The shared tier (SPEC §7), made once the chain is known to be a real one. */
  let sharedTier: SharedTier | undefined
  const observability = createObservability({
    sharedCache: options.cacheUrl === undefined ? undefined : () => sharedTier?.status(),
    providers: pool.providers,
    cache,
    registry,
    streams: () => ({ stats: hub.stats(), sockets: socketCounters }),
    perClient: Object.keys(options.authTokens ?? {}).length > 0,
  })
  pool.watch({ attempt: observability.onAttempt })
  const cacheOpened = chain.known.then((info) => {
    log.info(`upstream chain id ${info.chainId}${info.devChain ? ' (a development chain: cached in memory only)' : ''}`)
    if (options.cacheUrl !== undefined && info.devChain) log.info(`shared cache ${redactUrl(options.cacheUrl)} not used: a development chain is never shared`)
    else if (options.cacheUrl !== undefined && !shutdown.stopping) sharedTier = openSharedTier(options.cacheUrl, options.cachePrefix, info.chainId)
    pool.expectChain(info.chainId)
    const opening = openChainCache({
      cache,
      chainId: info.chainId,
      devChain: info.devChain,
      cacheDir: expandHome(options.cacheDir, platform.homeDir()),
      maxItems: options.maxCacheItems,
      info: (message) => log.info(message),
      warn: (message) => log.warn(message),
    })
    // Opened after the proxy began stopping (its flush already ran): close it now.
    return opening.finally(() => {
      if (shutdown.stopping) cache.close()
    })
  })
  const upstreamBatching =
    options.upstreamBatchSize > 1
      ? createUpstreamBatching({
          size: options.upstreamBatchSize,
          maxBytes: options.upstreamBatchBytes,
          maxResponseBytes: options.maxResponseBytes,
          onRefused: (provider, reason) => log.warn(`${provider.label} refused a JSON-RPC batch (${reason}): its calls go one by one for 10 minutes`),
          onTooLarge: (provider, bytes, maxBytes) =>
            log.warn(`${provider.label} refused a JSON-RPC batch of ${bytes} bytes as too large: its batches stay within ${maxBytes} bytes for 10 minutes`),
        })
      : undefined
  const onUnexpected = (error: unknown) => log.error('unexpected error while serving a request:', error)
  shutdown.onStop('background', () => sharedTier?.stop())
  const resolve = createResolver({
    forward: pool.forward,
    cache,
    chain,
    cacheOpened,
    waitMs: options.upstreamTimeoutMs,
    realtime,
    sharedTier: () => sharedTier,
  })
  const internal = createInternalCalls({ forward: pool.forward, resolve })
  /** WebSocket feeds already reported for serving another chain (said once each). */
  const wrongChainFeeds = new Set<string>()
  const hub = createStreamHub({
    candidates: socketCandidates(options.wsUrls, options.rpcUrls),
    pollIntervalMs: options.pollIntervalMs,
    call: internal.stream,
    onHead: (block) => {
      chain.observeHead(block)
      chain.touch()
    },
    warn: (message) => log.warn(message),
    chainId: () => chain.info?.chainId,
    onSourceDown: (label, reason) => {
      if (!reason.startsWith('answered chain')) return log.debug(`${label}: WebSocket feed down (${reason})`)
      if (!wrongChainFeeds.has(label)) log.warn(`${label}: a WebSocket feed that ${reason}: not used`)
      wrongChainFeeds.add(label)
    },
  })
  const filters = createFilterMethods({
    hub,
    getLogs: internal.getLogs,
  })
  const pipeline = createPipeline({
    resolve,
    cache,
    chain,
    maxBatchSize: options.maxBatchSize,
    observeCall: observability.observeCall,
    observeClient: observability.observeClient,
    onUnexpected,
    openUpstreamBatch: upstreamBatching?.open,
    rateLimit:
      options.rateLimit === 0
        ? undefined
        : {
            ...rateBuckets(options, () => sharedTier),
            freeHits: options.rateFreeHits,
            costs: options.rateCosts,
            onRefused: observability.onRateLimited,
          },
    local: createLocalMethods({
      management: {
        ...createLifecycleMethods({ version: VERSION, pid: process.pid, startedAtMs, requestShutdown: () => shutdown.begin('edb_shutdown') }),
        ...createInstanceMethods(registry),
        ...createCacheMethods(cache, () => sharedTier),
        ...createProviderMethods(pool.providers),
        ...createMetricsMethods(observability.calls, observability.history),
        ...createStreamsMethod(hub, socketCounters),
      },
      subscriptions: createSubscriptionMethods(hub),
      filters: filters.methods,
    }),
  })
  const app = createApp({
    pipeline,
    access: {
      loopbackBound: isLoopbackHost(options.host),
      adminToken: options.adminToken,
      authToken: options.authToken,
      namedTokens: Object.entries(options.authTokens ?? {}),
      originAllowed: createOriginPolicy(options.allowedOrigins),
    },
    maxBodyBytes: options.maxBodyBytes,
    health: createHealthReporter({
      providers: pool.providers,
      chainId: () => chain.info?.chainId,
      startedAtMs,
      sharedCache: () => sharedTier?.status().state,
    }),
    metrics: observability.prometheus,
    activity: observability.calls,
    onUnexpected,
    onHangUp: () => log.debug('a client hung up before its answer'),
    stopping: shutdown.began,
    streams: {
      hub,
      counters: socketCounters,
      maxConnections: options.wsMaxConnections,
      maxSubscriptions: options.wsMaxSubscriptions,
      sendQueueBytes: options.wsSendQueueBytes,
    },
  })
  const grace = createGracePeriod({ gracePeriodS: options.gracePeriod, registry, onExpire: () => shutdown.begin('grace-period') })
  const idleCollector = createIdleCollector({ served: () => observability.calls.served, collect: platform.collectGarbage })

  const server = await platform.serve({
    hostname: options.host,
    port: options.port,
    fetch: app.fetch,
    rootPost: app.rootPost,
    websocket: app.websocket,
    tls,
  })
  const url = `${tls === undefined ? 'http' : 'https'}://${server.hostname.includes(':') ? `[${server.hostname}]` : server.hostname}:${server.port}`
  const sweeper = setInterval(() => registry.sweep(), SWEEP_INTERVAL_MS)
  shutdown.onStop('background', () => {
    clearInterval(sweeper)
    grace.stop()
    idleCollector.stop()
    app.websocket.closeAll()
    filters.stop()
    hub.stop()
    chain.stop()
    pool.health.stop()
    observability.history.stop()
  })
  shutdown.drain(server)
  shutdown.onStop('flush', () => cache.close())
  observability.history.start()
  grace.start()
  idleCollector.start()
  chain.start()
  chain.known.then(
    () => {
      if (!shutdown.stopping) pool.health.start()
    },
    (error: Error) => {
      if (shutdown.stopping) return
      log.error(`startup failed: ${error.message}`)
      shutdown.begin('startup-error', 1)
    },
  )
  cacheOpened.catch((error: Error) => {
    if (shutdown.stopping || chain.info === undefined) return
    log.error(`startup failed: ${error.message}`)
    shutdown.begin('startup-error', 1)
  })
  if (handleSignals) platform.onSignal(['SIGINT', 'SIGTERM', 'SIGHUP'], (signal) => shutdown.begin(signal))
  if (!isLoopbackHost(options.host)) {
    const tokens = [
      options.authToken === undefined && Object.keys(options.authTokens ?? {}).length === 0
        ? 'any host that reaches it may make data calls (set --auth-token)'
        : undefined,
      options.adminToken === undefined ? 'edb_shutdown, edb_deleteCache and edb_register are refused until --admin-token is set' : undefined,
    ].filter((part) => part !== undefined)
    if (tokens.length > 0) log.warn(`bound to ${options.host}, beyond this machine: ${tokens.join('; ')}`)
  }
  // Announced once signals are handled, so whoever waits for this line may stop the proxy at once.
  log.info(`listening on ${url} (${pool.providers.length === 0 ? 'cache-only mode' : `${pool.providers.length} upstream providers`})`)

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

/** Per-client buckets: in Redis when there is a shared tier (one budget for a team's proxies), local while it is down. */
function rateBuckets(options: ServerOptions, tier: () => SharedTier | undefined) {
  const ratePerS = options.rateLimit
  const burst = options.rateBurst || options.rateLimit * 2
  const local = createTokenBuckets({ ratePerS, burst })
  if (options.cacheUrl === undefined) return local
  return createSharedBuckets({ store: tier, local, ratePerS, burst, prefix: options.cachePrefix })
}

/** Redis lookups on the request path wait at most this long (SPEC §7: a few milliseconds). */
const SHARED_TIER_TIMEOUT_MS = 5
const SHARED_TIER_CONNECT_TIMEOUT_MS = 500

/** The shared tier over the platform's Redis client; the URL's password never leaves it. */
function openSharedTier(url: string, prefix: string, chainId: number): SharedTier {
  const raw = URL.canParse(url) ? new URL(url).password : ''
  let password = raw
  try {
    password = decodeURIComponent(raw)
  } catch {
    // A malformed escape: the raw text is what could be printed.
  }
  return createSharedTier({
    open: () => platform.openRedis(url, { connectTimeoutMs: SHARED_TIER_CONNECT_TIMEOUT_MS }),
    label: redactUrl(url),
    secrets: [url, raw, password],
    prefix,
    chainId,
    timeoutMs: SHARED_TIER_TIMEOUT_MS,
    warn: (message) => log.warn(message),
    info: (message) => log.info(message),
  })
}
