import { redactUrl } from '../util/redact.ts'

/** One upstream endpoint and what the proxy has learned about it. */
export type Provider = {
  readonly url: string
  /** The redacted URL: the only form that leaves the process. */
  readonly label: string
  healthy: boolean
  consecutiveFailures: number
  /** Smoothed latency of successful attempts, or null before the first one. */
  responseTimeMs: number | null
  /** When the provider last answered or failed (ms since epoch), or null if never tried. */
  lastCheckedAtMs: number | null
}

/** A provider for `url`, assumed healthy until it fails. */
export function createProvider(url: string): Provider {
  return {
    url,
    label: redactUrl(url),
    healthy: true,
    consecutiveFailures: 0,
    responseTimeMs: null,
    lastCheckedAtMs: null,
  }
}

const LATENCY_SMOOTHING = 0.3

/** Record a successful attempt: healthy again, latency folded into the moving average. */
export function recordSuccess(provider: Provider, latencyMs: number, nowMs: number): void {
  provider.healthy = true
  provider.consecutiveFailures = 0
  provider.lastCheckedAtMs = nowMs
  provider.responseTimeMs =
    provider.responseTimeMs === null
      ? latencyMs
      : provider.responseTimeMs + LATENCY_SMOOTHING * (latencyMs - provider.responseTimeMs)
}

/** Record a failed attempt; `maxFailures` consecutive ones mark the provider unhealthy. */
export function recordFailure(provider: Provider, maxFailures: number, nowMs: number): void {
  provider.consecutiveFailures += 1
  provider.lastCheckedAtMs = nowMs
  if (provider.consecutiveFailures >= maxFailures) provider.healthy = false
}
