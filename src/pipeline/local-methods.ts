import type { ManagementMethod } from '../management/method.ts'
import { methodInfo } from '../rpc/methods.ts'

/**
 * The groups of methods the proxy answers itself: its own `edb_*` management methods, and the
 * subscriptions and filters it serves from its shared feeds (SPEC §4, §12).
 */
export type LocalGroup = 'management' | 'subscriptions' | 'filters'

/** One row of the table of methods the proxy answers itself. */
export type LocalMethod = ManagementMethod & {
  group: LocalGroup
  /** Counted in the call metrics like a data call (management methods are not: SPEC §4's counters are about data). */
  counted: boolean
  /** Refused to browsers and, off loopback, without the admin token (SPEC §8). */
  privileged: boolean
  /**
   * What one call costs against its client's budget (SPEC §13): management methods 1 (and nothing
   * from loopback: a debugger's heartbeats always pass); undefined: the method's own cost, as for data calls.
   */
  cost?: number
}

/** The one table of methods the proxy answers itself, by name. */
export type LocalMethods = ReadonlyMap<string, LocalMethod>

/**
 * Build the table from its groups, each a list of the records its modules make. A name given twice
 * is a programming error, refused at start-up (an object spread would let the later one win silently).
 */
export function createLocalMethods(
  groups: Partial<Record<LocalGroup, Record<string, ManagementMethod>[]>>,
): LocalMethods {
  const table = new Map<string, LocalMethod>()
  for (const [group, records] of Object.entries(groups) as [LocalGroup, Record<string, ManagementMethod>[]][]) {
    for (const [name, method] of records.flatMap((record) => Object.entries(record))) {
      if (table.has(name))
        throw new Error(`${name} is answered by two groups of local methods (${table.get(name)?.group} and ${group})`)
      table.set(name, {
        run: method.run,
        group,
        counted: group !== 'management',
        privileged: methodInfo(name).privileged === true,
        cost: group === 'management' ? 1 : undefined,
      })
    }
  }
  return table
}
