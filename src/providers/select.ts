import { admission } from './breaker.ts'
import { tierWeight } from './latency.ts'
import type { Provider } from './provider.ts'

/** One provider in the order a call will try them; `trial` marks a half-open circuit's one trial. */
export type Candidate = { provider: Provider; trial: boolean }

/** Chooses the order in which providers are tried for one call; each appears at most once. */
export type ProviderSelector = (providers: readonly Provider[], nowMs: number) => Candidate[]

/**
 * SPEC §6: providers with a closed circuit in a weighted random order (weights by latency tier on
 * the smoothed latency), then half-open ones as their trial, then open ones as a last resort so a
 * call is never refused while any provider might answer. Quarantined providers are never chosen.
 */
export function createWeightedSelector(random: () => number = Math.random): ProviderSelector {
  return (providers, nowMs) => {
    // One provider (the usual setup, and every pass-through call of it): nothing to order.
    if (providers.length === 1) {
      const provider = providers[0] as Provider
      if (provider.quarantined) return []
      return [{ provider, trial: admission(provider.breaker, nowMs) === 'trial' }]
    }
    const closed: Provider[] = []
    const trials: Candidate[] = []
    const open: Candidate[] = []
    for (const provider of providers) {
      if (provider.quarantined) continue
      const admitted = admission(provider.breaker, nowMs)
      if (admitted === 'yes') closed.push(provider)
      else if (admitted === 'trial') trials.push({ provider, trial: true })
      else open.push({ provider, trial: false })
    }
    open.sort((a, b) => a.provider.breaker.openedAtMs - b.provider.breaker.openedAtMs)
    return [...weightedShuffle(closed, random).map((provider) => ({ provider, trial: false })), ...trials, ...open]
  }
}

/** Weighted random order without replacement: each pick's chance is its weight over the rest's. */
function weightedShuffle(providers: Provider[], random: () => number): Provider[] {
  const pool = providers.map((provider) => ({ provider, weight: tierWeight(provider.latency.smoothedMs) }))
  const order: Provider[] = []
  while (pool.length > 0) {
    let pick = random() * pool.reduce((sum, entry) => sum + entry.weight, 0)
    let index = 0
    while (index < pool.length - 1 && pick >= (pool[index] as { weight: number }).weight)
      pick -= (pool[index++] as { weight: number }).weight
    order.push((pool.splice(index, 1)[0] as { provider: Provider }).provider)
  }
  return order
}
