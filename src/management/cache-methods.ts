import type { Cache } from '../cache/cache.ts'
import { planCall } from '../cache/policy.ts'
import { provenPlan, type SharedTier } from '../cache/shared-tier.ts'
import type { ManagementMethod } from './method.ts'

/** The reference's exact words for bad params: a result, not a JSON-RPC error (SPEC §4). */
const BAD_FORMAT = 'Expected [method] or [method, params]'

/**
 * `edb_cache_stats` and `edb_deleteCache`, with the reference's result shapes (SPEC §4); with a
 * shared tier, the stats carry `shared_cache` and deleting reaches it too (SPEC §7).
 */
export function createCacheMethods(
  cache: Cache,
  sharedTier: () => SharedTier | undefined = () => undefined,
  /** Extra figures the stats carry when their part is on: `prefetch` (SPEC §14), `verification` (SPEC §15). */
  extras: { prefetch?: () => object; verification?: () => object } = {},
): Record<string, ManagementMethod> {
  return {
    edb_cache_stats: {
      run: () => {
        const tier = sharedTier()
        const stats: Record<string, unknown> =
          tier === undefined ? cache.stats() : { ...cache.stats(), shared_cache: tier.status() }
        if (extras.prefetch !== undefined) stats.prefetch = extras.prefetch()
        if (extras.verification !== undefined) stats.verification = extras.verification()
        return stats
      },
    },
    edb_deleteCache: {
      run: async (params) => {
        if (!Array.isArray(params) || params.length < 1 || params.length > 2 || typeof params[0] !== 'string') {
          return { success: false, error: BAD_FORMAT }
        }
        const method = params[0]
        const tier = sharedTier()
        if (params.length === 1) {
          const local = cache.deleteMethod(method)
          const shared = tier === undefined ? 0 : await tier.deleteMethod(method).catch((error: Error) => error)
          if (shared instanceof Error)
            return {
              success: false,
              error: `deleted ${local} entries here; the shared cache was not reached (${shared.message}): its entries remain`,
            }
          const deleted = local + shared
          return { success: true, deleted_count: deleted, message: `Deleted ${deleted} entries for method '${method}'` }
        }
        const plan = tier === undefined ? undefined : planCall(method, params[1])
        const local = cache.deleteCall(method, params[1])
        // Both places it may be shared: the plain key, and proven state's own (SPEC §15).
        const shared =
          plan === undefined || tier === undefined
            ? 0
            : await Promise.all([tier.deleteCall(plan), tier.deleteCall(provenPlan(plan))]).then(
                ([plain, proven]) => plain + proven,
                (error: Error) => error,
              )
        if (shared instanceof Error)
          return {
            success: false,
            error: `deleted ${local} entries here; the shared cache was not reached (${shared.message}): its entry remains`,
          }
        const deleted = local + shared
        return {
          success: true,
          deleted_count: deleted,
          message: deleted > 0 ? 'Deleted specific cache entry' : 'Cache entry not found',
        }
      },
    },
  }
}
