/**
 * What the replay sections (the debugger workload, the first run) share: the forwarder's latency,
 * which calls are about "now", the proxy's own head tracking, and the warm run's checks.
 */
import type { Check } from './report.ts'
import { spread } from './stats.ts'

/** The latency the forwarder adds to every request, as a remote provider would. */
export const LATENCY_MS = 30

/** Answers about "now", which a warm run may still ask (SPEC §10: at most one). */
export const NOW_METHODS = new Set([
  'eth_gasPrice',
  'eth_maxPriorityFeePerGas',
  'eth_feeHistory',
  'eth_blobBaseFee',
  'eth_blockNumber',
])

/** The proxy's own head tracking, never counted against a run (SPEC §10). */
export const isHeadTracking = (line: string) =>
  line === 'eth_blockNumber []' || line === 'eth_getBlockByNumber ["finalized",false]'

/** One timed run and the upstream calls it made, by method. */
export type CountedRun = { ms: number; calls: Record<string, number> }

/** All the calls of a run. */
export const totalCalls = (run: CountedRun) => Object.values(run.calls).reduce((sum, count) => sum + count, 0)

/** The calls of a run about "now". */
export const nowCalls = (run: CountedRun) =>
  Object.entries(run.calls).reduce((sum, [method, count]) => sum + (NOW_METHODS.has(method) ? count : 0), 0)

/**
 * SPEC §10's warm-run checks: no upstream call but for "now" answers, at most one of those, and the
 * time less their round trips against the limit run paired with it (held to `maxRatio` when given).
 */
export function warmChecks(name: string, warm: CountedRun[], limit: CountedRun[], maxRatio?: number): Check[] {
  const ratios = warm.map((run, index) => (run.ms - nowCalls(run) * LATENCY_MS) / (limit[index] as CountedRun).ms)
  return [
    {
      label: `${name}: warm upstream calls but for "now" answers`,
      value: spread(warm.map((run) => totalCalls(run) - nowCalls(run))),
      unit: 'count',
      target: { op: '=', limit: 0 },
    },
    {
      label: `${name}: warm "now" answers asked upstream`,
      value: spread(warm.map(nowCalls)),
      unit: 'count',
      target: { op: '<=', limit: 1 },
    },
    {
      label: `${name}: warm time, less its "now" round trips / limit`,
      value: spread(ratios),
      unit: 'x',
      ...(maxRatio === undefined ? {} : { target: { op: '<=' as const, limit: maxRatio } }),
    },
  ]
}
