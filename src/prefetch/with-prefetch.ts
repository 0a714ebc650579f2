import type { Resolver } from '../pipeline/resolve.ts'
import type { Prefetcher } from './prefetcher.ts'

/**
 * The resolver, wrapped by the prefetch (SPEC §14): every answer passes the prefetcher, which notes
 * the blocks clients ask about (answers that went upstream only) and counts reads of prefetched
 * keys. The waiting itself is a tier of the resolver.
 */
export function withPrefetch(resolve: Resolver, prefetcher: Prefetcher): Resolver {
  return (call, scope) =>
    resolve(call, scope).then((resolved) => {
      prefetcher.observe(call, resolved)
      return resolved
    })
}
