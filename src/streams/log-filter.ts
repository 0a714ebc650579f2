import { InvalidParamsError } from '../rpc/errors.ts'

/** A logs filter as `eth_subscribe("logs", …)` and `eth_newFilter` take it, normalized (lowercase, arrays). */
export type LogFilter = {
  /** Any of these addresses; empty: any address. */
  addresses: string[]
  /** Per position: any of these topics; null: any topic. */
  topics: (string[] | null)[]
}

/** A log as nodes return it; only the fields the filter and the reorg bookkeeping read are typed. */
export type Log = {
  address: string
  topics: string[]
  blockHash: string
  logIndex: string
  removed?: boolean
  [field: string]: unknown
}

const ADDRESS = /^0x[0-9a-fA-F]{40}$/
const TOPIC = /^0x[0-9a-fA-F]{64}$/
const MAX_ADDRESSES = 1_000
const MAX_TOPIC_POSITIONS = 4
const MAX_TOPIC_ALTERNATIVES = 1_000

/** Read a filter object (`{address?, topics?}`, anything else ignored as geth does); `-32602` on a malformed one. */
export function parseLogFilter(value: unknown): LogFilter {
  if (value === undefined || value === null) return { addresses: [], topics: [] }
  if (typeof value !== 'object' || Array.isArray(value))
    throw new InvalidParamsError('expected a filter object {address?, topics?}')
  const { address, topics } = value as { address?: unknown; topics?: unknown }
  return { addresses: parseAddresses(address), topics: parseTopics(topics) }
}

function parseAddresses(address: unknown): string[] {
  if (address === undefined || address === null) return []
  const list = Array.isArray(address) ? address : [address]
  if (list.length > MAX_ADDRESSES) throw new InvalidParamsError(`at most ${MAX_ADDRESSES} addresses in a filter`)
  return list.map((entry) => {
    if (typeof entry !== 'string' || !ADDRESS.test(entry))
      throw new InvalidParamsError('expected address as a 20-byte hex string or a list of them')
    return entry.toLowerCase()
  })
}

function parseTopics(topics: unknown): (string[] | null)[] {
  if (topics === undefined || topics === null) return []
  if (!Array.isArray(topics) || topics.length > MAX_TOPIC_POSITIONS)
    throw new InvalidParamsError(`expected topics as a list of at most ${MAX_TOPIC_POSITIONS} positions`)
  return topics.map((position) => {
    if (position === null) return null
    const list = Array.isArray(position) ? position : [position]
    if (list.length > MAX_TOPIC_ALTERNATIVES)
      throw new InvalidParamsError(`at most ${MAX_TOPIC_ALTERNATIVES} topics in one position`)
    if (list.length === 0) return null
    return list.map((topic) => {
      if (typeof topic !== 'string' || !TOPIC.test(topic))
        throw new InvalidParamsError('expected each topic as a 32-byte hex string, null, or a list of them')
      return topic.toLowerCase()
    })
  })
}

/** The filter's identity: two subscriptions with equal keys share one feed. */
export function logFilterKey(filter: LogFilter): string {
  return JSON.stringify([
    [...filter.addresses].sort(),
    filter.topics.map((position) => (position === null ? null : [...position].sort())),
  ])
}

/** Whether a log matches, with the semantics of geth's filters (any address listed; each topic position any of its list). */
export function matchesLog(filter: LogFilter, log: Log): boolean {
  if (filter.addresses.length > 0 && !filter.addresses.includes(log.address.toLowerCase())) return false
  if (filter.topics.length > log.topics.length) return false
  for (let index = 0; index < filter.topics.length; index++) {
    const wanted = filter.topics[index]
    if (wanted === null || wanted === undefined) continue
    if (!wanted.includes((log.topics[index] as string).toLowerCase())) return false
  }
  return true
}
