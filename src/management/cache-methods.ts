import type { Cache } from '../cache/cache.ts'
import type { ManagementMethod } from './method.ts'

/** The reference's exact words for bad params: a result, not a JSON-RPC error (SPEC §4). */
const BAD_FORMAT = 'Expected [method] or [method, params]'

/** `edb_cache_stats` and `edb_deleteCache`, with the reference's result shapes (SPEC §4). */
export function createCacheMethods(cache: Cache): Record<string, ManagementMethod> {
  return {
    edb_cache_stats: { run: () => cache.stats() },
    edb_deleteCache: {
      run: (params) => {
        if (!Array.isArray(params) || params.length < 1 || params.length > 2 || typeof params[0] !== 'string') {
          return { success: false, error: BAD_FORMAT }
        }
        const method = params[0]
        if (params.length === 1) {
          const deleted = cache.deleteMethod(method)
          return { success: true, deleted_count: deleted, message: `Deleted ${deleted} entries for method '${method}'` }
        }
        const deleted = cache.deleteCall(method, params[1])
        return {
          success: true,
          deleted_count: deleted,
          message: deleted > 0 ? 'Deleted specific cache entry' : 'Cache entry not found',
        }
      },
    },
  }
}
