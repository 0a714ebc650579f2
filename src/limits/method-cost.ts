import { methodInfo } from '../rpc/methods.ts'

/** Per-method costs from the config file (`rate-costs`): exact names, or `namespace_*` for a namespace. */
export type CostOverrides = Readonly<Record<string, number>>

/**
 * What one call costs against its client's budget (SPEC §13): an override when the config file
 * names the method or its namespace, else the defaults: a trace 20 plain calls, a log query 10.
 */
export function methodCost(method: string, overrides: CostOverrides = {}): number {
  if (Object.hasOwn(overrides, method)) return overrides[method] as number
  const underscore = method.indexOf('_')
  const namespace = `${method.slice(0, underscore)}_*`
  if (underscore !== -1 && Object.hasOwn(overrides, namespace)) return overrides[namespace] as number
  return methodInfo(method).cost ?? 1
}
