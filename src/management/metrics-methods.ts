import type { CallMetrics } from '../metrics/call-metrics.ts'
import type { MetricsHistory } from '../metrics/history.ts'
import type { ManagementMethod } from './method.ts'

/** `edb_cache_metrics`, `edb_metrics_history` and `edb_request_metrics` (SPEC §4). */
export function createMetricsMethods(calls: CallMetrics, history: MetricsHistory): Record<string, ManagementMethod> {
  return {
    edb_cache_metrics: { run: () => calls.cacheMetrics() },
    edb_metrics_history: { run: () => history.snapshot() },
    edb_request_metrics: { run: () => calls.requestMetrics() },
  }
}
