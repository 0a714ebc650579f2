import type { Cache } from '../cache/cache.ts'
import type { ManagementMethod } from './method.ts'

const BAD_FORMAT = 'Invalid parameter format. Expected [method] or [method, params]'

/** `edb_cache_stats` and `edb_deleteCache`, with the reference's result shapes (SPEC §4). */
export function createCacheMethods(cache: Cache): Record<string, ManagementMethod> {
  return {
    edb_cache_stats: { run: () => cache.stats() },
    edb_deleteCache: {
      privileged: true,
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
