import type { ManagementMethod } from '../management/method.ts'
import type { SubscriptionKind } from '../metrics/stream-stats.ts'
import type { StreamClient } from '../rpc/context.ts'
import { FilterNotFoundError, InvalidParamsError, LimitExceededError, UpstreamAnswerError } from '../rpc/errors.ts'
import { parseQuantity } from '../rpc/quantity.ts'
import type { Outcome } from '../rpc/types.ts'
import { every } from '../util/every.ts'
import type { StreamHub } from './hub.ts'
import { parseLogFilter } from './log-filter.ts'

export type FilterOptions = {
  hub: StreamHub
  /** `eth_getLogs` through the pipeline (cache, failover), for `eth_getFilterLogs`. */
  getLogs(filter: unknown): Promise<Outcome>
  /** Filters installed at once (SPEC §12: bounded). */
  maxFilters?: number
  /** A filter not polled for this long is removed (SPEC §12: 5 minutes, as in geth). */
  idleMs?: number
  /** Changes kept per filter between polls; beyond it the oldest go. */
  maxChanges?: number
  now?: () => number
}

type Filter = {
  id: string
  kind: SubscriptionKind
  client: StreamClient
  /** Results since the last poll, as JSON text. */
  changes: string[]
  /** The `eth_newFilter` object as given (for `eth_getFilterLogs`), and its block range. */
  criteria?: Record<string, unknown>
  fromBlock?: number
  toBlock?: number
  lastPolledMs: number
}

const SWEEP_EVERY_MS = 30_000

/**
 * `eth_newFilter`, `eth_newBlockFilter`, `eth_newPendingTransactionFilter`, `eth_getFilterChanges`,
 * `eth_getFilterLogs` and `eth_uninstallFilter` (SPEC §12), served by the proxy from the same feeds
 * as subscriptions: a filter is a subscription whose events wait for the next poll. It does not
 * live on one provider, so it survives failover and works across any number of them.
 */
export function createFilterMethods(options: FilterOptions): {
  methods: Record<string, ManagementMethod>
  stop(): void
  readonly size: number
} {
  const now = options.now ?? Date.now
  const maxFilters = options.maxFilters ?? 10_000
  const idleMs = options.idleMs ?? 5 * 60_000
  const maxChanges = options.maxChanges ?? 10_000
  const filters = new Map<string, Filter>()
  /** Filters whose start is being asked: they count against the bound already. */
  let installing = 0

  const sweep = () => {
    for (const filter of [...filters.values()]) if (now() - filter.lastPolledMs > idleMs) uninstall(filter.id)
  }

  /** A filter, answered once the hub knows the head it starts from: its first changes are the blocks after it (as in geth). */
  const install = async (
    kind: SubscriptionKind,
    subscribeFilter: unknown,
    pick: (resultJson: string) => string | undefined,
    extra: Partial<Filter> = {},
  ) => {
    // Expired filters go before the bound is judged: idle ones never lock a new client out.
    if (filters.size + installing >= maxFilters) sweep()
    if (filters.size + installing >= maxFilters)
      throw new LimitExceededError(`too many filters installed: the limit is ${maxFilters}`)
    const filter = { kind, changes: [] as string[], lastPolledMs: now(), ...extra } as Filter
    filter.client = {
      deliver(_id, resultJson) {
        const change = pick(resultJson)
        if (change === undefined) return
        filter.changes.push(change)
        // The oldest tenth goes at once, so a filter nobody polls costs no shift per event.
        if (filter.changes.length > maxChanges) filter.changes.splice(0, Math.ceil(maxChanges / 10))
      },
    }
    installing += 1
    try {
      filter.id = await options.hub.subscribe(filter.client, kind, subscribeFilter)
    } finally {
      installing -= 1
    }
    filter.lastPolledMs = now()
    filters.set(filter.id, filter)
    return filter.id
  }

  const uninstall = (id: string) => {
    const filter = filters.get(id)
    if (filter === undefined) return false
    filters.delete(id)
    options.hub.release(filter.client)
    return true
  }

  const find = (params: unknown): Filter => {
    if (!Array.isArray(params) || params.length !== 1 || typeof params[0] !== 'string')
      throw new InvalidParamsError('expected [filter id]')
    const filter = filters.get(params[0].toLowerCase())
    if (filter === undefined) throw new FilterNotFoundError()
    if (now() - filter.lastPolledMs > idleMs) {
      uninstall(filter.id)
      throw new FilterNotFoundError()
    }
    filter.lastPolledMs = now()
    return filter
  }

  const sweeper = every(SWEEP_EVERY_MS, sweep)

  const noParams = (params: unknown) => {
    if (params !== undefined && !(Array.isArray(params) && params.length === 0))
      throw new InvalidParamsError('expected no params')
  }

  const methods: Record<string, ManagementMethod> = {
    eth_newFilter: {
      run(params) {
        if (
          !Array.isArray(params) ||
          params.length !== 1 ||
          params[0] === null ||
          typeof params[0] !== 'object' ||
          Array.isArray(params[0])
        ) {
          throw new InvalidParamsError('expected [{fromBlock?, toBlock?, address?, topics?}]')
        }
        const criteria = params[0] as Record<string, unknown>
        if (criteria.blockHash !== undefined)
          throw new InvalidParamsError('a filter takes fromBlock and toBlock, not blockHash')
        const logFilter = parseLogFilter({ address: criteria.address, topics: criteria.topics })
        const fromBlock = blockBound(criteria.fromBlock, 'fromBlock')
        const toBlock = blockBound(criteria.toBlock, 'toBlock')
        return install(
          'logs',
          { address: logFilter.addresses, topics: criteria.topics },
          (resultJson) => {
            if (fromBlock === undefined && toBlock === undefined) return resultJson
            const block = parseQuantity((JSON.parse(resultJson) as { blockNumber?: unknown }).blockNumber)
            if (
              block !== undefined &&
              ((fromBlock !== undefined && block < fromBlock) || (toBlock !== undefined && block > toBlock))
            )
              return undefined
            return resultJson
          },
          { criteria, fromBlock, toBlock },
        )
      },
    },
    eth_newBlockFilter: {
      run(params) {
        noParams(params)
        return install('newHeads', undefined, (resultJson) =>
          JSON.stringify((JSON.parse(resultJson) as { hash?: unknown }).hash),
        )
      },
    },
    eth_newPendingTransactionFilter: {
      run(params) {
        // geth takes an optional `fullTx` flag; only hashes are served.
        if (Array.isArray(params) && params.length === 1 && params[0] === true)
          throw new InvalidParamsError('full transactions are not served: omit fullTx')
        if (!(Array.isArray(params) && params.length === 1 && params[0] === false)) noParams(params)
        return install('newPendingTransactions', undefined, (resultJson) => resultJson)
      },
    },
    eth_getFilterChanges: {
      run(params) {
        const filter = find(params)
        const changes = filter.changes
        filter.changes = []
        return JSON.parse(`[${changes.join(',')}]`)
      },
    },
    eth_getFilterLogs: {
      async run(params) {
        const filter = find(params)
        if (filter.criteria === undefined) throw new FilterNotFoundError()
        const outcome = await options.getLogs(filter.criteria)
        if (outcome.error !== undefined)
          throw new UpstreamAnswerError(outcome.error.code, outcome.error.message, outcome.error.data)
        return JSON.parse(outcome.resultJson ?? '[]')
      },
    },
    eth_uninstallFilter: {
      run(params) {
        if (!Array.isArray(params) || params.length !== 1 || typeof params[0] !== 'string')
          throw new InvalidParamsError('expected [filter id]')
        return uninstall(params[0].toLowerCase())
      },
    },
  }
  return {
    methods,
    stop() {
      sweeper.stop()
      for (const id of [...filters.keys()]) uninstall(id)
    },
    get size() {
      return filters.size
    },
  }
}

/** A filter's `fromBlock`/`toBlock`: a block number, or undefined for a tag (latest, pending, earliest means 0). */
function blockBound(value: unknown, name: string): number | undefined {
  if (
    value === undefined ||
    value === null ||
    value === 'latest' ||
    value === 'pending' ||
    value === 'safe' ||
    value === 'finalized'
  )
    return undefined
  if (value === 'earliest') return 0
  const block = parseQuantity(value)
  if (block === undefined) throw new InvalidParamsError(`expected ${name} as a block number or tag`)
  return block
}
