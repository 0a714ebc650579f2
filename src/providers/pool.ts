import { RPC_CODES } from '../rpc/errors.ts'
import type { Outcome, RpcCall } from '../rpc/types.ts'
import type { SlotLimits } from './attempt-slots.ts'
import type { BreakerOptions } from './breaker.ts'
import { createBudget } from './budget.ts'
import { createForwarder, type Forwarder } from './forward.ts'
import { createHealthChecker, type HealthChecker } from './health-check.ts'
import { createHistoryLearner, type HistoryLearner } from './history-learner.ts'
import { createProvider, isHealthy, type Provider } from './provider.ts'
import { createWeightedSelector } from './select.ts'
import { createUnsupportedMethods, type UnsupportedMethods } from './unsupported-methods.ts'
import { postToProvider } from './upstream.ts'

export type ProviderPoolOptions = {
  urls: readonly string[]
  maxFailures: number
  healthCheckIntervalMs: number
  upstreamTimeoutMs: number
  maxResponseBytes: number
  /** Per provider: attempts in flight at once, and calls that may wait beyond them. */
  slots: SlotLimits
  /** Request budgets by URL (`providers:` in the config file); a provider without one learns it from its 429s. */
  budgets?: ReadonlyMap<string, { rps: number; burst?: number }>
  warn: (message: string) => void
}

/** What the pool reports as it works; parts built after it subscribe with `watch`. */
export type PoolListener = {
  /** Every attempt of a client or internal call: `ok`, `rpc-error`, `cancelled` or the failure kind. */
  attempt?: (provider: Provider, outcome: string, durationMs: number) => void
  /** A provider failed to answer at all (network, timeout, bad status or body, or a failed probe). */
  unanswered?: (provider: Provider) => void
  /** A health probe learned a provider's head. */
  head?: (block: number) => void
}

/** The upstream side of the proxy: providers, the failover forwarder and the background health checks. */
export type ProviderPool = {
  providers: Provider[]
  forward: Forwarder
  health: HealthChecker
  /** How far back each provider holds history (SPEC §6), learned in the background. */
  history: HistoryLearner
  /** Methods each provider said it lacks (`-32601`), remembered for a while. */
  unsupported: UnsupportedMethods
  /** The chain the proxy serves, once detected: a provider answering another is quarantined. */
  expectChain(chainId: number): void
  /**
   * The same call to up to `count` distinct healthy providers (through failover when none is
   * healthy), one outcome per provider that answered; `-32002` when none did.
   */
  askSeveral(call: RpcCall, count?: number, options?: { unhealthyToo?: boolean }): Promise<Outcome[]>
  watch(listener: PoolListener): void
}

/** Attempt outcomes that are answers (or the proxy's own cancellation or queue), not a failure to answer. */
const ANSWERED = new Set(['ok', 'rpc-error', 'cancelled', 'busy', 'rate-limited', 'provider-fault'])

const HEDGE_FLOOR_MS = 25
const HEDGE_CEILING_MS = 2_000
/**
 * The hedge delay before any provider has a latency sample (chain detection gives most of them one
 * within milliseconds of start). The ceiling here made a fresh proxy's first read wait 2 s whenever
 * it picked a hung provider. 300 ms is the latency an unmeasured provider is ranked at
 * (`tierWeight`), above what a healthy node usually takes for a read, and a wrong guess costs at
 * most one duplicate read.
 */
const HEDGE_UNMEASURED_MS = 300
const TRACE_TIMEOUT_FACTOR = 6
const DEADLINE_FACTOR = 3
const FAILOVER_WARNING_EVERY_MS = 10_000
/** How long every provider's "method not found" for an extension method is answered without asking again. */
const UNSUPPORTED_REST_MS = 10 * 60_000

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

/** Fetches beyond the client slots, per provider: health probes and finality questions take none. */
const UNSLOTTED_FETCHES_PER_PROVIDER = 8

/**
 * How many fetches the runtime must allow at once so that its own cap never makes an attempt
 * wait on the clock (SPEC §6): every provider's slots, plus its probes.
 */
export function fetchesNeeded(providerCount: number, concurrency: number): number {
  return providerCount * (concurrency + UNSLOTTED_FETCHES_PER_PROVIDER) + UNSLOTTED_FETCHES_PER_PROVIDER
}

/** Build providers with their circuit breakers, the forwarder and the health checker from one set of options. */
export function createProviderPool(options: ProviderPoolOptions): ProviderPool {
  const breaker: BreakerOptions = {
    maxFailures: options.maxFailures,
    baseCooldownMs: Math.min(options.healthCheckIntervalMs, 30_000),
    maxCooldownMs: Math.max(options.healthCheckIntervalMs, 30_000) * 4,
  }
  const providers = options.urls.map((url) =>
    createProvider(url, breaker, options.slots, createBudget(options.budgets?.get(url) ?? {})),
  )
  const listeners: PoolListener[] = []
  let chainId: number | undefined
  const expected = () => chainId
  const onCircuitOpen = (provider: Provider) =>
    options.warn(
      `${provider.label}: circuit open after ${provider.breaker.consecutiveFailures} consecutive failures; resting ${provider.breaker.cooldownMs / 1000} s`,
    )
  const failoverWarnings = createThrottle(FAILOVER_WARNING_EVERY_MS)
  const onAttempt = (provider: Provider, outcome: string, durationMs: number) => {
    for (const listener of listeners) listener.attempt?.(provider, outcome, durationMs)
    if (!ANSWERED.has(outcome)) for (const listener of listeners) listener.unanswered?.(provider)
    if (outcome !== 'ok' && outcome !== 'rpc-error' && outcome !== 'cancelled' && failoverWarnings(provider.label)) {
      options.warn(`${provider.label}: ${outcome}; failing over to another provider`)
    }
  }
  const onQuarantine = (provider: Provider, chain: string) =>
    options.warn(`${provider.label} answered chain ${chain}, not ${chainId}: quarantined`)
  const unsupported = createUnsupportedMethods({ restMs: UNSUPPORTED_REST_MS })
  const history = createHistoryLearner({ providers, timeoutMs: Math.min(options.upstreamTimeoutMs, 5_000) })
  const forward = createForwarder({
    providers,
    select: createWeightedSelector(),
    breaker,
    timeoutMs: options.upstreamTimeoutMs,
    deadlineFactor: DEADLINE_FACTOR,
    traceTimeoutFactor: TRACE_TIMEOUT_FACTOR,
    hedgeFloorMs: HEDGE_FLOOR_MS,
    hedgeCeilingMs: HEDGE_CEILING_MS,
    hedgeUnmeasuredMs: HEDGE_UNMEASURED_MS,
    maxResponseBytes: options.maxResponseBytes,
    chainId: expected,
    onQuarantine,
    onAttempt,
    onCircuitOpen,
    unsupported,
    history,
  })
  const health = createHealthChecker({
    providers,
    intervalMs: options.healthCheckIntervalMs,
    timeoutMs: Math.min(options.upstreamTimeoutMs, 5_000),
    breaker,
    chainId: expected,
    onQuarantine,
    onRecovered: (provider) => options.warn(`${provider.label}: healthy again, circuit closed`),
    onCircuitOpen,
    onHead: (block) => {
      for (const listener of listeners) listener.head?.(block)
    },
    onProbeFailed: (provider) => {
      for (const listener of listeners) listener.unanswered?.(provider)
    },
  })
  return {
    providers,
    forward,
    health,
    history,
    unsupported,
    expectChain(id) {
      chainId = id
    },
    async askSeveral(call, count = 2, { unhealthyToo = false } = {}) {
      // What a struck provider says may still count (a header's hash, SPEC §15); a quarantined one never does.
      const chosen = providers.filter(unhealthyToo ? (provider) => !provider.quarantined : isHealthy).slice(0, count)
      if (chosen.length === 0) return [await forward(call)]
      const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: call.method, params: call.params })
      const outcomes = await Promise.all(
        chosen.map((provider) =>
          postToProvider(provider, body, {
            timeoutMs: options.upstreamTimeoutMs,
            maxResponseBytes: options.maxResponseBytes,
          }).then(
            (answer): Outcome | undefined =>
              answer.kind === 'result'
                ? { resultJson: answer.resultJson, provider: provider.label }
                : answer.kind === 'error'
                  ? { error: answer.error }
                  : undefined,
            () => undefined,
          ),
        ),
      )
      const answered = outcomes.filter((outcome): outcome is Outcome => outcome !== undefined)
      if (answered.length === chosen.length) return answered
      return [
        ...answered,
        {
          error: { code: RPC_CODES.resourceUnavailable, message: 'a provider asked did not answer' },
          unavailable: true,
        },
      ]
    },
    watch(listener) {
      listeners.push(listener)
    },
  }
}
