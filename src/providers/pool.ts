import type { BreakerOptions } from './breaker.ts'
import { createForwarder, type Forwarder } from './forward.ts'
import { createHealthChecker, type HealthChecker } from './health-check.ts'
import { createProvider, type Provider } from './provider.ts'
import { createWeightedSelector } from './select.ts'

export type ProviderPoolOptions = {
  urls: readonly string[]
  maxFailures: number
  healthCheckIntervalMs: number
  upstreamTimeoutMs: number
  maxResponseBytes: number
  chainId: () => number | undefined
  warn: (message: string) => void
  info: (message: string) => void
  onAttempt?: (provider: Provider, outcome: string, durationMs: number) => void
}

/** The upstream side of the proxy: providers, the failover forwarder and the background health checks. */
export type ProviderPool = { providers: Provider[]; forward: Forwarder; health: HealthChecker }

const HEDGE_FLOOR_MS = 25
const HEDGE_CEILING_MS = 2_000
const TRACE_TIMEOUT_FACTOR = 6
const DEADLINE_FACTOR = 3
const FAILOVER_WARNING_EVERY_MS = 10_000

/** True at most once per `everyMs` for each key (failover warnings must not flood the log). */
function createThrottle(everyMs: number): (key: string) => boolean {
  const last = new Map<string, number>()
  return (key) => {
    const now = Date.now()
    if (now - (last.get(key) ?? Number.NEGATIVE_INFINITY) < everyMs) return false
    last.set(key, now)
    return true
  }
}

/** Build providers with their circuit breakers, the forwarder and the health checker from one set of options. */
export function createProviderPool(options: ProviderPoolOptions): ProviderPool {
  const breaker: BreakerOptions = {
    maxFailures: options.maxFailures,
    baseCooldownMs: Math.min(options.healthCheckIntervalMs, 30_000),
    maxCooldownMs: Math.max(options.healthCheckIntervalMs, 30_000) * 4,
  }
  const providers = options.urls.map((url) => createProvider(url, breaker))
  const onCircuitOpen = (provider: Provider) =>
    options.warn(`${provider.label}: circuit open after ${provider.breaker.consecutiveFailures} consecutive failures; resting ${provider.breaker.cooldownMs / 1000} s`)
  const failoverWarnings = createThrottle(FAILOVER_WARNING_EVERY_MS)
  const onAttempt = (provider: Provider, outcome: string, durationMs: number) => {
    options.onAttempt?.(provider, outcome, durationMs)
    if (outcome !== 'ok' && outcome !== 'rpc-error' && outcome !== 'cancelled' && failoverWarnings(provider.label)) {
      options.warn(`${provider.label}: ${outcome}; failing over to another provider`)
    }
  }
  const onQuarantine = (provider: Provider, chain: string) =>
    options.warn(`${provider.label} answered chain ${chain}, not ${options.chainId()}: quarantined`)
  const forward = createForwarder({
    providers,
    select: createWeightedSelector(),
    breaker,
    timeoutMs: options.upstreamTimeoutMs,
    deadlineFactor: DEADLINE_FACTOR,
    traceTimeoutFactor: TRACE_TIMEOUT_FACTOR,
    hedgeFloorMs: HEDGE_FLOOR_MS,
    hedgeCeilingMs: HEDGE_CEILING_MS,
    maxResponseBytes: options.maxResponseBytes,
    chainId: options.chainId,
    onQuarantine,
    onAttempt,
    onCircuitOpen,
  })
  const health = createHealthChecker({
    providers,
    intervalMs: options.healthCheckIntervalMs,
    timeoutMs: Math.min(options.upstreamTimeoutMs, 5_000),
    breaker,
    chainId: options.chainId,
    onQuarantine,
    onRecovered: (provider) => options.warn(`${provider.label}: healthy again, circuit closed`),
    onCircuitOpen,
  })
  return { providers, forward, health }
}
