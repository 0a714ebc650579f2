import type { Provider } from './provider.ts'

/** Chooses the order in which providers are tried for one call. */
export type ProviderSelector = (providers: readonly Provider[]) => Provider[]

/**
 * Round-robin over healthy providers, with unhealthy ones kept as a last resort so a request is
 * never refused while any provider might answer. Each provider appears once.
 */
export function createRoundRobinSelector(): ProviderSelector {
  let cursor = 0
  return (providers) => {
    const count = providers.length
    if (count === 0) return []
    const start = cursor++ % count
    const healthy: Provider[] = []
    const unhealthy: Provider[] = []
    for (let offset = 0; offset < count; offset++) {
      const provider = providers[(start + offset) % count] as Provider
      ;(provider.healthy ? healthy : unhealthy).push(provider)
    }
    return healthy.concat(unhealthy)
  }
}
