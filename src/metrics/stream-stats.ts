/**
 * What the streams report (SPEC §12 observability): subscriptions by kind, feeds and their sources,
 * and the counters. Defined here, beside the metrics that read them, so the metrics never import
 * the streams: the stream hub fills these in.
 */

/** The subscription kinds of `eth_subscribe`. */
export type SubscriptionKind = 'newHeads' | 'logs' | 'newPendingTransactions'

/** Counters of what the streams did, for `/metrics` and the monitor. */
export type StreamCounters = {
  eventsDelivered: number
  duplicatesDropped: number
  gapsFilled: number
  blocksFilled: number
  reorgs: number
  restarts: number
  logFetchFailures: number
}

/** A snapshot of the streams, for `/metrics`, `edb_streams` and the monitor. */
export type StreamStats = {
  subscriptions: Record<SubscriptionKind, number>
  feeds: { kind: SubscriptionKind; filter?: string; subscribers: number }[]
  sources: { kind: 'heads' | 'pending'; polling: boolean; sockets: { label: string; up: boolean }[] }[]
  counters: StreamCounters
}
