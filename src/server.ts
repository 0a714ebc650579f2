import process from 'node:process'
import type { ServerOptions } from './config/schema.ts'
import { createHealthReporter } from './health.ts'
import { createApp } from './http/app.ts'
import { createGracePeriod } from './lifecycle/grace-period.ts'
import { createShutdown, type ShutdownReason } from './lifecycle/shutdown.ts'
import { createInstanceMethods } from './management/instance-methods.ts'
import { createLifecycleMethods } from './management/lifecycle-methods.ts'
import { platform } from './platform/index.ts'
import { detectChain } from './providers/chain.ts'
import { createForwarder } from './providers/forward.ts'
import { createProvider } from './providers/provider.ts'
import { createRoundRobinSelector } from './providers/select.ts'
import { createProxy } from './proxy.ts'
import { isInstanceAlive } from './registry/liveness.ts'
import { createRegistry } from './registry/registry.ts'
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
}

export type StartOptions = {
  /** Install SIGINT/SIGTERM/SIGHUP handlers (the CLI does; in-process tests do not). */
  handleSignals?: boolean
}

const CHAIN_DETECTION_TIMEOUT_MS = 5_000
const SWEEP_INTERVAL_MS = 1_000
const DRAIN_TIMEOUT_MS = 10_000
const MAX_INSTANCES = 1_024

/** Wire the proxy together and listen; binding comes first, chain detection runs alongside (SPEC §3). */
export async function startServer(options: ServerOptions, { handleSignals = false }: StartOptions = {}): Promise<ServerHandle> {
  const startedAtMs = Date.now()
  const providers = options.rpcUrls.map(createProvider)
  let chainId = providers.length === 0 ? (options.chainId ?? 1) : options.chainId
  const registry = createRegistry({
    heartbeatIntervalS: options.heartbeatInterval,
    maxInstances: MAX_INSTANCES,
    isAlive: isInstanceAlive,
  })
  let shutdown: (reason: ShutdownReason, code?: number) => void = () => {}
  const onUnexpected = (error: unknown) => log.error('unexpected error while serving a request:', error)
  const proxy = createProxy({
    maxBatchSize: options.maxBatchSize,
    onUnexpected,
    forward: createForwarder({
      providers,
      select: createRoundRobinSelector(),
      timeoutMs: options.upstreamTimeoutMs,
      deadlineMs: options.upstreamTimeoutMs * 3,
      maxFailures: options.maxFailures,
      maxResponseBytes: options.maxResponseBytes,
    }),
    management: {
      ...createLifecycleMethods({
        version: VERSION,
        pid: process.pid,
        startedAtMs,
        requestShutdown: () => shutdown('edb_shutdown'),
      }),
      ...createInstanceMethods(registry),
    },
  })
  const app = createApp({
    proxy,
    access: { loopbackBound: isLoopbackHost(options.host), adminToken: options.adminToken, authToken: options.authToken },
    maxBodyBytes: options.maxBodyBytes,
    health: createHealthReporter({ providers, chainId: () => chainId, startedAtMs }),
    onUnexpected,
  })
  const server = await platform.serve({
    hostname: options.host,
    port: options.port,
    fetch: app.fetch,
    maxRequestBodySize: options.maxBodyBytes * 2,
  })
  const url = `http://${server.hostname.includes(':') ? `[${server.hostname}]` : server.hostname}:${server.port}`
  log.info(`listening on ${url} (${providers.length === 0 ? 'cache-only mode' : `${providers.length} upstream providers`})`)

  const sweeper = setInterval(() => registry.sweep(), SWEEP_INTERVAL_MS)
  const stopping = createShutdown({
    drain: () => server.stop(false),
    forceStop: () => server.stop(true),
    flush: async () => {},
    drainTimeoutMs: DRAIN_TIMEOUT_MS,
    log: (message) => log.info(message),
  })
  shutdown = (reason, code) => {
    clearInterval(sweeper)
    stopping.begin(reason, code)
  }
  createGracePeriod({
    gracePeriodS: options.gracePeriod,
    registry,
    onExpire: () => shutdown('grace-period'),
  }).start()
  if (handleSignals) platform.onSignal(['SIGINT', 'SIGTERM', 'SIGHUP'], (signal) => shutdown(signal))

  if (providers.length > 0) {
    detectChain(providers, CHAIN_DETECTION_TIMEOUT_MS)
      .then((detection) => {
        for (const provider of detection.silent) log.warn(`${provider.label} did not answer eth_chainId`)
        if (detection.chainId === undefined) return log.warn('no upstream answered eth_chainId; the chain is unknown')
        if (chainId !== undefined && chainId !== detection.chainId) {
          throw new Error(`--chain-id ${chainId} does not match the upstreams' chain ${detection.chainId}`)
        }
        chainId = detection.chainId
        log.info(`upstream chain id ${chainId}`)
      })
      .catch((error: Error) => {
        log.error(`startup failed: ${error.message}`)
        shutdown('startup-error', 1)
      })
  }

  return { url, port: server.port, exitCode: stopping.exitCode, shutdown: (reason) => shutdown(reason) }
}
