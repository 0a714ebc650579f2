/** Per-method costs from the config file (`rate-costs`): exact names, or `namespace_*` for a namespace. */
export type CostOverrides = Readonly<Record<string, number>>

/**
 * What one call costs against its client's budget (SPEC §13): an override when the config file
 * names the method or its namespace, else the defaults: a trace 20 plain calls, a log query 10.
 */
export function methodCost(method: string, overrides: CostOverrides = {}): number {
  const exact = overrides[method]
  if (exact !== undefined) return exact
  const underscore = method.indexOf('_')
  const namespace = underscore === -1 ? undefined : overrides[`${method.slice(0, underscore)}_*`]
  if (namespace !== undefined) return namespace
  if (method.startsWith('debug_') || method.startsWith('trace_')) return 20
  if (method === 'eth_getLogs') return 10
  return 1
}
