import { redactUrl } from '../util/redact.ts'
import { type AttemptSlots, createAttemptSlots, type SlotLimits } from './attempt-slots.ts'
import { type Breaker, type BreakerOptions, breakerFailure, breakerSuccess, createBreaker } from './breaker.ts'
import { type Budget, createBudget } from './budget.ts'
import { createProviderHistory, type ProviderHistory } from './history.ts'
import { addLatency, createLatencyStats, type LatencyStats } from './latency.ts'

/** One upstream endpoint and what the proxy has learned about it. */
export type Provider = {
  readonly url: string
  /** The redacted URL: the only form that leaves the process. */
  readonly label: string
  readonly breaker: Breaker
  readonly latency: LatencyStats
  /** Client attempts in flight and waiting (health probes do not take a slot). */
  readonly slots: AttemptSlots
  /** Its request budget (SPEC §6): configured, or learned from its 429s; every call the proxy sends counts. */
  readonly budget: Budget
  /** How far back it holds each kind of history, as learned (SPEC §6). */
  readonly history: ProviderHistory
  /** Answered another chain id than the proxy serves: never used again until it answers the right one. */
  quarantined: boolean
  /** When a health check last probed it (ms), or null if never. */
  lastHealthCheckMs: number | null
  /** When a client call last used it (ms), or null if never. */
  lastUsedMs: number | null
  /** Until when it gets single calls only (it refused a JSON-RPC batch); 0: batches welcome. */
  batchesRefusedUntilMs: number
  /** The largest batch it is sent, in bytes, learned from a batch it refused as too large, and until when. */
  batchBytesLearned: { maxBytes: number; untilMs: number } | undefined
  /** JSON-RPC batches posted to it, and the calls they carried. */
  batches: number
  batchedCalls: number
  requests: number
  successes: number
  errors: number
}

/** SPEC §6 defaults: `--upstream-concurrency` and `--upstream-queue`. */
export const DEFAULT_SLOT_LIMITS: SlotLimits = { concurrency: 256, queue: 4096 }

/** A provider for `url`, closed (in use) until it fails. */
export function createProvider(
  url: string,
  breakerOptions: BreakerOptions,
  limits: SlotLimits = DEFAULT_SLOT_LIMITS,
  budget: Budget = createBudget(),
): Provider {
  return {
    url,
    label: redactUrl(url),
    breaker: createBreaker(breakerOptions),
    latency: createLatencyStats(),
    slots: createAttemptSlots(limits),
    budget,
    history: createProviderHistory(),
    quarantined: false,
    lastHealthCheckMs: null,
    lastUsedMs: null,
    batchesRefusedUntilMs: 0,
    batchBytesLearned: undefined,
    batches: 0,
    batchedCalls: 0,
    requests: 0,
    successes: 0,
    errors: 0,
  }
}

/** Whether the provider is usable: circuit closed and not quarantined. */
export function isHealthy(provider: Provider): boolean {
  return provider.breaker.state === 'closed' && !provider.quarantined
}

/** Record a successful attempt (an answer, including a deterministic error). */
export function recordSuccess(provider: Provider, latencyMs: number, options: BreakerOptions): void {
  provider.successes += 1
  addLatency(provider.latency, latencyMs)
  breakerSuccess(provider.breaker, options)
}

/** Record a failed attempt; true when this failure opened the circuit. */
export function recordFailure(provider: Provider, options: BreakerOptions, nowMs: number): boolean {
  provider.errors += 1
  const wasOpen = provider.breaker.state === 'open'
  breakerFailure(provider.breaker, options, nowMs)
  return !wasOpen && provider.breaker.state === 'open'
}

/** An attempt is being sent to it now (a trial one when its circuit is half-open). */
export function markSent(provider: Provider, nowMs: number, trial: boolean): void {
  if (trial) provider.breaker.trialInFlight = true
  provider.requests += 1
  provider.lastUsedMs = nowMs
}

/** An attempt ended without an answer or a failure of the provider's (cancelled, or its queue was full): a trial it was is over. */
export function markUnjudged(provider: Provider): void {
  provider.breaker.trialInFlight = false
}

/** It answered another chain than the proxy serves (SPEC §6): never used until it answers the right one. */
export function quarantine(provider: Provider): void {
  provider.quarantined = true
}

/** It answered the proxy's chain again. */
export function release(provider: Provider): void {
  provider.quarantined = false
}

/** A health probe is asking it now. */
export function markProbed(provider: Provider, nowMs: number): void {
  provider.lastHealthCheckMs = nowMs
}

/** It refused a JSON-RPC batch: single calls only until `untilMs`. */
export function refuseBatches(provider: Provider, untilMs: number): void {
  provider.batchesRefusedUntilMs = untilMs
}

/** It refused a batch as too large: its batches stay within `maxBytes` until `untilMs`. */
export function learnBatchBytes(provider: Provider, maxBytes: number, untilMs: number): void {
  provider.batchBytesLearned = { maxBytes, untilMs }
}

/** A JSON-RPC batch of `calls` calls was posted to it. */
export function countBatch(provider: Provider, calls: number): void {
  provider.batches += 1
  provider.batchedCalls += calls
}

/** A provider that did not answer at detection starts unhealthy (open), until a probe or a trial answers (SPEC §6). */
export function markUnreachable(provider: Provider, nowMs: number): void {
  if (provider.breaker.state !== 'closed') return
  provider.breaker.state = 'open'
  provider.breaker.openedAtMs = nowMs
  provider.breaker.consecutiveFailures += 1
}
