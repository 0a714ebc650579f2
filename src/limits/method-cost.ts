/** SPEC §13 default costs: a trace is worth 20 plain calls, a log query 10. */
export function methodCost(method: string): number {
  if (method.startsWith('debug_') || method.startsWith('trace_')) return 20
  if (method === 'eth_getLogs') return 10
  return 1
}
