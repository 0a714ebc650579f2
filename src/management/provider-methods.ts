import type { Budget } from '../providers/budget.ts'
import { historyView } from '../providers/history.ts'
import { isHealthy, type Provider } from '../providers/provider.ts'
import type { UnsupportedMethods } from '../providers/unsupported-methods.ts'
import { percent } from '../util/percent.ts'
import type { ManagementMethod } from './method.ts'

/** `edb_providers` and `edb_provider_metrics`, with the reference's field names and types (SPEC §4). */
export function createProviderMethods(
  providers: readonly Provider[],
  unsupported?: Pick<UnsupportedMethods, 'refusedBy'>,
  now: () => number = Date.now,
): Record<string, ManagementMethod> {
  return {
    edb_providers: {
      run: () => {
        const list = providers.map((provider) => ({
          url: provider.label,
          is_healthy: isHealthy(provider),
          last_health_check_seconds_ago:
            provider.lastHealthCheckMs === null
              ? null
              : Math.max(0, Math.floor((now() - provider.lastHealthCheckMs) / 1000)),
          response_time_ms: provider.latency.smoothedMs === null ? null : Math.round(provider.latency.smoothedMs),
          consecutive_failures: provider.breaker.consecutiveFailures,
          state: provider.quarantined ? 'quarantined' : provider.breaker.state,
          // Extra fields (the reference's are unchanged): its request budget and what was sent in the last second.
          budget: budgetView(provider.budget),
          // What was learned of it (SPEC §6): how far back it holds each kind of history, and the methods it lacks.
          history: historyView(provider.history, now()),
          methods_refused: unsupported?.refusedBy(provider) ?? [],
        }))
        return {
          providers: list,
          healthy_count: list.filter((entry) => entry.is_healthy).length,
          total_count: list.length,
        }
      },
    },
    edb_provider_metrics: {
      run: () => {
        const total = providers.reduce((sum, provider) => sum + provider.requests, 0)
        return {
          providers: providers.map((provider) => ({
            url: provider.label,
            request_count: provider.requests,
            success_rate: percent(provider.successes, provider.successes + provider.errors),
            avg_response_time_ms: provider.latency.count === 0 ? 0 : provider.latency.totalMs / provider.latency.count,
            load_percentage: percent(provider.requests, total),
            last_used_timestamp: provider.lastUsedMs === null ? 0 : Math.floor(provider.lastUsedMs / 1000),
            error_count: provider.errors,
          })),
        }
      },
    },
  }
}

/** A provider's budget as `edb_providers` shows it: the limit and whether it was set or learned, spend, waits and 429s. */
function budgetView(budget: Budget) {
  return {
    rps: budget.rps ?? null,
    configured: budget.configured,
    spent_last_second: budget.spentLastSecond,
    waited_calls: budget.waits.calls,
    waited_ms: Math.round(budget.waits.totalMs),
    rate_limits: budget.limitedCount,
  }
}
