import process from 'node:process'
import type { ServerOptions } from './config/schema.ts'
import { createCache } from './cache/cache.ts'
import { isDevChain } from './cache/dev-chain.ts'
import { createFinality } from './cache/finality.ts'
import { createFinalizedSource } from './cache/finalized-source.ts'
import { openChainCache } from './cache/open-chain-cache.ts'
import { createHealthReporter } from './health.ts'
import { createApp } from './http/app.ts'
import { createGracePeriod } from './lifecycle/grace-period.ts'
import { createShutdown, type ShutdownReason } from './lifecycle/shutdown.ts'
import { createInstanceMethods } from './management/instance-methods.ts'
import { createCacheMethods } from './management/cache-methods.ts'
import { createLifecycleMethods } from './management/lifecycle-methods.ts'
import { platform } from './platform/index.ts'
import { detectChain } from './providers/chain.ts'
import { createProviderPool } from './providers/pool.ts'
import type { Provider } from './providers/provider.ts'
import { createProviderMethods } from './management/provider-methods.ts'
import { createMetricsMethods } from './management/metrics-methods.ts'
import { createObservability } from './metrics/observability.ts'
import { createProxy, createTxBlockLookup, type Proxy } from './proxy.ts'
import { isInstanceAlive } from './registry/liveness.ts'
import { createRegistry } from './registry/registry.ts'
import { expandHome } from './util/expand-home.ts'
import { isLoopbackHost } from './util/loopback.ts'
import { log } from './util/log.ts'
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
  /** Resolves once every pending cache store has been decided (for embedding and tests). */
  cacheSettled(): Promise<void>
}

export type StartOptions = {
  /** Install SIGINT/SIGTERM/SIGHUP handlers (the CLI does; in-process tests do not). */
  handleSignals?: boolean
}

const CHAIN_DETECTION_TIMEOUT_MS = 5_000
const SWEEP_INTERVAL_MS = 1_000
const DRAIN_TIMEOUT_MS = 10_000
const MAX_INSTANCES = 1_024
const FINALITY_REFRESH_MS = 1_000

/** Wire the proxy together and listen; binding comes first, chain detection runs alongside (SPEC §3). */
export async function startServer(options: ServerOptions, { handleSignals = false }: StartOptions = {}): Promise<ServerHandle> {
  const startedAtMs = Date.now()
  let chainId = options.rpcUrls.length === 0 ? (options.chainId ?? 1) : options.chainId
  const { providers, forward, health } = createProviderPool({
    urls: options.rpcUrls,
    maxFailures: options.maxFailures,
    healthCheckIntervalMs: options.healthCheckInterval * 1000,
    upstreamTimeoutMs: options.upstreamTimeoutMs,
    maxResponseBytes: options.maxResponseBytes,
    chainId: () => chainId,
    warn: (message) => log.warn(message),
    info: (message) => log.info(message),
    onAttempt: (provider, outcome, durationMs) => observability.onAttempt(provider, outcome, durationMs),
  })
  const registry = createRegistry({
    heartbeatIntervalS: options.heartbeatInterval,
    maxInstances: MAX_INSTANCES,
    isAlive: isInstanceAlive,
  })
  let shutdown: (reason: ShutdownReason, code?: number) => void = () => {}
  const onUnexpected = (error: unknown) => log.error('unexpected error while serving a request:', error)
  const finality = createFinality({
    fetchFinalized: createFinalizedSource((call) => forward(call, false), options.finalityDepth),
    minRefreshMs: FINALITY_REFRESH_MS,
  })
  let proxy: Proxy | undefined
  const cache = createCache(
    { maxItems: options.maxCacheItems, maxMemoryBytes: options.maxCacheBytes, finality },
    createTxBlockLookup(() => proxy as Proxy),
  )
  let devChain = options.devChain === 'yes'
  const observability = createObservability({ providers, cache, registry })
  proxy = createProxy({
    observeCall: observability.observeCall,
    maxBatchSize: options.maxBatchSize,
    onUnexpected,
    forward,
    cache,
    isDevChain: () => devChain,
    management: {
      ...createLifecycleMethods({
        version: VERSION,
        pid: process.pid,
        startedAtMs,
        requestShutdown: () => shutdown('edb_shutdown'),
      }),
      ...createInstanceMethods(registry),
      ...createCacheMethods(cache),
      ...createProviderMethods(providers),
      ...createMetricsMethods(observability.calls, observability.history),
    },
  })
  const app = createApp({
    proxy,
    access: { loopbackBound: isLoopbackHost(options.host), adminToken: options.adminToken, authToken: options.authToken },
    maxBodyBytes: options.maxBodyBytes,
    health: createHealthReporter({ providers, chainId: () => chainId, startedAtMs }),
    metrics: observability.prometheus,
    activity: observability.calls,
    onUnexpected,
  })
  const server = await platform.serve({
    hostname: options.host,
    port: options.port,
    fetch: app.fetch,
    rootPost: app.rootPost,
    maxRequestBodySize: options.maxBodyBytes * 2,
  })
  const url = `http://${server.hostname.includes(':') ? `[${server.hostname}]` : server.hostname}:${server.port}`

  const sweeper = setInterval(() => registry.sweep(), SWEEP_INTERVAL_MS)
  const stopping = createShutdown({
    drain: () => server.stop(false),
    forceStop: () => server.stop(true),
    flush: async () => cache.close(),
    drainTimeoutMs: DRAIN_TIMEOUT_MS,
    log: (message) => log.info(message),
  })
  let stopped = false
  shutdown = (reason, code) => {
    stopped = true
    clearInterval(sweeper)
    health.stop()
    observability.history.stop()
    stopping.begin(reason, code)
  }
  observability.history.start()
  createGracePeriod({
    gracePeriodS: options.gracePeriod,
    registry,
    onExpire: () => shutdown('grace-period'),
  }).start()
  if (handleSignals) platform.onSignal(['SIGINT', 'SIGTERM', 'SIGHUP'], (signal) => shutdown(signal))
  // Announced once signals are handled, so whoever waits for this line may stop the proxy at once.
  log.info(`listening on ${url} (${providers.length === 0 ? 'cache-only mode' : `${providers.length} upstream providers`})`)

  const startCaching = async (id: number) => {
    const needsClientVersion = providers.length > 0 && options.maxCacheItems > 0 && options.devChain === 'auto'
    const clientVersion = needsClientVersion ? await askClientVersion((call) => forward(call, false)) : undefined
    devChain = options.devChain === 'yes' || (options.devChain === 'auto' && isDevChain(id, clientVersion))
    await openChainCache({
      cache,
      chainId: id,
      devChain,
      cacheDir: expandHome(options.cacheDir, platform.homeDir()),
      maxItems: options.maxCacheItems,
      info: (message) => log.info(message),
      warn: (message) => log.warn(message),
    })
  }
  const chainReady =
    providers.length === 0
      ? Promise.resolve(chainId as number)
      : detectUntilKnown(providers, options.healthCheckInterval * 1000, () => stopped).then((detected) => {
          if (chainId !== undefined && chainId !== detected) {
            throw new Error(`--chain-id ${chainId} does not match the upstreams' chain ${detected}`)
          }
          chainId = detected
          log.info(`upstream chain id ${chainId}`)
          health.start()
          return chainId
        })
  const cacheReady = chainReady.then(startCaching)
  cacheReady.catch((error: Error) => {
    if (stopped) return
    log.error(`startup failed: ${error.message}`)
    shutdown('startup-error', 1)
  })

  return {
    url,
    port: server.port,
    exitCode: stopping.exitCode,
    shutdown: (reason) => shutdown(reason),
    cacheReady: cacheReady.then(
      () => {},
      () => {},
    ),
    cacheSettled: () => cache.settled(),
  }
}

async function askClientVersion(send: (call: { jsonrpc: '2.0'; id: number; method: string; params: [] }) => Promise<{ resultJson?: string }>) {
  const outcome = await send({ jsonrpc: '2.0', id: 0, method: 'web3_clientVersion', params: [] })
  const version: unknown = outcome.resultJson === undefined ? undefined : JSON.parse(outcome.resultJson)
  return typeof version === 'string' ? version : undefined
}

/**
 * Detect the upstreams' chain; while no provider answers, warn and try again with a growing pause
 * (up to `maxPauseMs`), so a proxy started offline begins caching once its providers come back.
 */
async function detectUntilKnown(providers: Provider[], maxPauseMs: number, stopped: () => boolean): Promise<number> {
  for (let pauseMs = 1_000; ; pauseMs = Math.min(pauseMs * 2, maxPauseMs)) {
    const detection = await detectChain(providers, CHAIN_DETECTION_TIMEOUT_MS)
    for (const provider of detection.silent) log.warn(`${provider.label} did not answer eth_chainId`)
    if (detection.chainId !== undefined) return detection.chainId
    if (stopped()) throw new Error('stopped before any upstream answered eth_chainId')
    log.warn(`no upstream answered eth_chainId; caching waits, trying again in ${pauseMs / 1000} s`)
    await new Promise((resolve) => setTimeout(resolve, pauseMs))
  }
}
