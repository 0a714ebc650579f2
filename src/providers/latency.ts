/** Recent latencies of one provider: a smoothed mean for ranking, a p90 for hedging. */
export type LatencyStats = {
  /** Exponentially smoothed latency of successful attempts, or null before the first. */
  smoothedMs: number | null
  /** The most recent samples (a ring), for percentiles. */
  readonly samples: number[]
  next: number
  /** Every successful attempt, for the mean. */
  count: number
  totalMs: number
}

const SMOOTHING = 0.3
const WINDOW = 32

export function createLatencyStats(): LatencyStats {
  return { smoothedMs: null, samples: [], next: 0, count: 0, totalMs: 0 }
}

/** Fold one successful attempt's latency in. */
export function addLatency(stats: LatencyStats, latencyMs: number): void {
  stats.count += 1
  stats.totalMs += latencyMs
  stats.smoothedMs =
    stats.smoothedMs === null ? latencyMs : stats.smoothedMs + SMOOTHING * (latencyMs - stats.smoothedMs)
  if (stats.samples.length < WINDOW) stats.samples.push(latencyMs)
  else stats.samples[stats.next] = latencyMs
  stats.next = (stats.next + 1) % WINDOW
}

/** The 90th percentile of recent samples, or undefined before any. */
export function p90(stats: LatencyStats): number | undefined {
  if (stats.samples.length === 0) return undefined
  const sorted = [...stats.samples].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.9))]
}

/** The reference's latency tiers (SPEC §6): 0–199 ms 100, 200–399 60, 400–599 30, 600+ 10; unmeasured counts as 300 ms. */
export function tierWeight(smoothedMs: number | null): number {
  const ms = smoothedMs ?? 300
  if (ms < 200) return 100
  if (ms < 400) return 60
  if (ms < 600) return 30
  return 10
}
