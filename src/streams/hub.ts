import type { StreamCounters, StreamStats, SubscriptionKind } from '../metrics/stream-stats.ts'
import type { StreamClient } from '../rpc/context.ts'
import { InvalidParamsError, LimitExceededError } from '../rpc/errors.ts'
import type { Outcome } from '../rpc/types.ts'
import { type ChainChange, createChainFollower, type Head, toHead } from './chain-follower.ts'
import { createFeedSources, type FeedSources, type SocketCandidate } from './feed-sources.ts'
import { type Log, type LogFilter, logFilterKey, matchesLog, parseLogFilter } from './log-filter.ts'
import { createRecentSet } from './recent-set.ts'
import { newsFor, type Starting, type StartPoint } from './start-point.ts'
import type { SourceDown } from './upstream-subscription.ts'

/** One call upstream with failover; `notHere` marks answers that mean "this provider does not have it yet". */
export type StreamCall = (method: string, params: unknown[], notHere?: (value: unknown) => boolean) => Promise<Outcome>

export type StreamHubOptions = {
  /** Upstream WebSocket endpoints, in order of preference. */
  candidates: readonly SocketCandidate[]
  pollIntervalMs: number
  call: StreamCall
  /** A new canonical head: the head tracker learns from the feeds too. */
  onHead?(block: number): void
  warn(message: string): void
  /** Blocks kept to tell duplicates and repair gaps and reorgs (default 128). */
  windowSize?: number
  /** The chain the proxy serves, once known: upstream sockets on another chain are never used. */
  chainId?: () => number | undefined
  /** An upstream socket went down (or was refused for its chain), for the log. */
  onSourceDown?(label: string, reason: SourceDown): void
}

export type StreamHub = {
  /**
   * A new subscription for `client`; its id (unique in this proxy), once the head it starts from is
   * known: only blocks above that head are delivered to it. Rejects with `-32602` on a bad kind or filter.
   */
  subscribe(client: StreamClient, kind: unknown, filter?: unknown): Promise<string>
  /** Whether `client` had that subscription (now gone). */
  unsubscribe(client: StreamClient, id: string): boolean
  /** Every subscription of `client` ends (it disconnected). */
  release(client: StreamClient): void
  /** How many subscriptions `client` holds. */
  countOf(client: StreamClient): number
  /** Subscriptions by kind, feeds, their sources, and the counters. */
  stats(): StreamStats
  stop(): void
  /** Resolves once every event seen so far is delivered (tests). */
  settled(): Promise<void>
}

/** One subscription: where it is delivered, and where it starts (until its first news). */
type Subscriber = Starting & { client: StreamClient }
type Feed = { kind: SubscriptionKind; key: string; filter?: LogFilter; subscribers: Map<string, Subscriber> }

const KINDS = new Set<SubscriptionKind>(['newHeads', 'logs', 'newPendingTransactions'])
/** Fields of a full block that a `newHeads` header does not carry (geth's header form). */
const NOT_IN_HEADER = ['transactions', 'uncles', 'size', 'totalDifficulty', 'withdrawals']
const LOG_RETRY_DELAYS_MS = [100, 250, 500, 1_000, 2_000]
const FOLLOWER_RETRY_DELAYS_MS = [100, 250, 500, 1_000, 2_000]
const PENDING_WINDOW = 50_000

/**
 * The subscriptions of every client, over shared feeds (SPEC §12): one feed per distinct kind and
 * filter, shared by its subscribers and closed with the last. Heads come from the chain follower
 * (sockets on up to two providers, else polling), so every canonical block goes out once and in
 * order; logs are asked per canonical block (`eth_getLogs` by block hash, one call for every logs
 * feed) and matched here, and on a reorg the removed blocks' logs go out again with `removed: true`
 * before the new blocks' logs; pending transactions are de-duplicated in a bounded window.
 */
export function createStreamHub(options: StreamHubOptions): StreamHub {
  const windowSize = options.windowSize ?? 128
  const feeds = new Map<string, Feed>()
  const owners = new Map<string, { client: StreamClient; feed: Feed }>()
  const byClient = new Map<StreamClient, Set<string>>()
  const counters: StreamCounters = {
    eventsDelivered: 0,
    duplicatesDropped: 0,
    gapsFilled: 0,
    blocksFilled: 0,
    reorgs: 0,
    restarts: 0,
    logFetchFailures: 0,
  }
  /** Logs of recent canonical blocks, by block hash, to send again as removed on a reorg. */
  const blockLogs = new Map<string, Log[]>()
  let logQueue: Promise<void> = Promise.resolve()
  const seenPending = createRecentSet(PENDING_WINDOW)
  /** Moves on each time the head sources stop, so late answers of the old ones are dropped. */
  let headEpoch = 0

  const deliverTo = (feed: Feed, id: string, resultJson: string) => {
    const subscriber = feed.subscribers.get(id)
    if (subscriber === undefined) return
    try {
      subscriber.client.deliver(id, resultJson)
      counters.eventsDelivered += 1
    } catch (error) {
      // One broken client must not cost the others their events.
      options.warn(
        `subscriptions: a client could not be written to and is released (${error instanceof Error ? error.message : String(error)})`,
      )
      releaseClient(subscriber.client)
    }
  }

  const publish = (feed: Feed, resultJson: string) => {
    for (const id of [...feed.subscribers.keys()]) deliverTo(feed, id, resultJson)
  }

  /** Each subscriber gets the heads that are news to it (none from before it subscribed). */
  const publishHeads = (feed: Feed, change: ChainChange) => {
    const texts = new Map<Head, string>()
    for (const [id, subscriber] of [...feed.subscribers]) {
      for (const head of newsFor(subscriber, change).added) {
        const text = texts.get(head) ?? JSON.stringify(headerOf(head))
        texts.set(head, text)
        deliverTo(feed, id, text)
      }
    }
  }

  const feedsOf = (kind: SubscriptionKind) => [...feeds.values()].filter((feed) => feed.kind === kind)

  const follower = createChainFollower({
    windowSize,
    retryDelaysMs: FOLLOWER_RETRY_DELAYS_MS,
    blockByHash: (hash) => resultOf(options.call('eth_getBlockByHash', [hash, false], isNull)),
    blockByNumber: (block) =>
      resultOf(options.call('eth_getBlockByNumber', [`0x${block.toString(16)}`, false], isNull)),
    onChange: (change) => {
      const heads = feeds.get('newHeads')
      if (heads !== undefined) publishHeads(heads, change)
      const newest = change.added[change.added.length - 1]
      if (newest !== undefined) options.onHead?.(newest.number)
      if (feedsOf('logs').length > 0 || change.removed.length > 0)
        logQueue = logQueue.then(() => deliverLogs(change)).catch(() => {})
    },
    onDuplicate: () => {
      counters.duplicatesDropped += 1
    },
    onGapFilled: (blocks) => {
      if (blocks === 0) return
      counters.gapsFilled += 1
      counters.blocksFilled += blocks
    },
    onReorg: () => {
      counters.reorgs += 1
    },
    onRestart: (reason) => {
      counters.restarts += 1
      options.warn(`subscriptions: ${reason}; delivery continues from the newest block`)
    },
  })

  /** The logs of one block, asked until some provider has them (a provider behind says "unknown block"). */
  const logsOf = async (head: Head): Promise<Log[] | undefined> => {
    for (let attempt = 0; ; attempt++) {
      // An empty list for a block whose bloom is not empty is a provider that lacks the block.
      const outcome = await options.call(
        'eth_getLogs',
        [{ blockHash: head.hash }],
        (value) => !Array.isArray(value) || (value.length === 0 && hasLogs(head)),
      )
      if (outcome.resultJson !== undefined) {
        const logs = JSON.parse(outcome.resultJson) as Log[]
        if (
          Array.isArray(logs) &&
          logs.every((log) => typeof log?.blockHash === 'string' && log.blockHash.toLowerCase() === head.hash)
        )
          return logs
      }
      const pause = LOG_RETRY_DELAYS_MS[attempt]
      if (pause === undefined) return undefined
      await new Promise((resolve) => setTimeout(resolve, pause))
    }
  }

  const deliverLogs = async (change: ChainChange) => {
    const byBlock = new Map<Head, Log[]>()
    for (const head of change.removed) {
      byBlock.set(
        head,
        (blockLogs.get(head.hash) ?? []).map((log) => ({ ...log, removed: true })),
      )
      blockLogs.delete(head.hash)
    }
    if (feedsOf('logs').length === 0) return
    const fetched = await Promise.all(change.added.map(logsOf))
    for (const [index, head] of change.added.entries()) {
      const logs = fetched[index]
      if (logs === undefined) {
        counters.logFetchFailures += 1
        options.warn(
          `subscriptions: the logs of block ${head.number} could not be fetched from any provider; they are not delivered`,
        )
        continue
      }
      blockLogs.set(head.hash, logs)
      while (blockLogs.size > windowSize) blockLogs.delete(blockLogs.keys().next().value as string)
      byBlock.set(head, logs)
    }
    // Feeds made while the logs were fetched are served too: their subscribers' starts say what is news.
    const texts = new Map<Log, string>()
    for (const feed of feedsOf('logs')) publishLogs(feed, change, byBlock, texts)
  }

  /** Each subscriber of a logs feed gets the matching logs of the blocks that are news to it, removed ones first. */
  const publishLogs = (feed: Feed, change: ChainChange, byBlock: Map<Head, Log[]>, texts: Map<Log, string>) => {
    const matching = new Map<Head, string[]>()
    const matchingOf = (head: Head) => {
      const known = matching.get(head)
      if (known !== undefined) return known
      const found = (byBlock.get(head) ?? []).filter((log) => feed.filter !== undefined && matchesLog(feed.filter, log))
      const text = found.map((log) => {
        const json = texts.get(log) ?? JSON.stringify(log)
        texts.set(log, json)
        return json
      })
      matching.set(head, text)
      return text
    }
    for (const [id, subscriber] of [...feed.subscribers]) {
      const news = newsFor(subscriber, change)
      for (const head of [...news.removed, ...news.added])
        for (const text of matchingOf(head)) deliverTo(feed, id, text)
    }
  }

  const onPending = (hash: unknown) => {
    if (typeof hash !== 'string') return
    if (!seenPending.add(hash.toLowerCase())) {
      counters.duplicatesDropped += 1
      return
    }
    const feed = feeds.get('newPendingTransactions')
    if (feed !== undefined) publish(feed, JSON.stringify(hash))
  }

  const headSources: FeedSources = createFeedSources({
    candidates: options.candidates,
    params: ['newHeads'],
    onEvent: (header) => follower.offer(header),
    poll: async () => {
      const epoch = headEpoch
      const block = await resultOf(options.call('eth_getBlockByNumber', ['latest', false], isNull))
      // A poll that was in flight when the last head feed closed must not seed the next one.
      if (epoch === headEpoch) follower.offer(block)
    },
    pollIntervalMs: options.pollIntervalMs,
    maxSockets: 2,
    chainId: options.chainId,
    onSourceDown: options.onSourceDown,
  })
  const pendingSources: FeedSources = createFeedSources({
    candidates: options.candidates,
    params: ['newPendingTransactions'],
    onEvent: onPending,
    poll: async () => {
      const block = (await resultOf(options.call('eth_getBlockByNumber', ['pending', false]))) as
        | { transactions?: unknown }
        | null
        | undefined
      if (Array.isArray(block?.transactions)) for (const hash of block.transactions) onPending(hash)
    },
    pollIntervalMs: options.pollIntervalMs,
    maxSockets: 2,
    chainId: options.chainId,
  })

  /** Start or stop the sources as feeds come and go. */
  const adjustSources = () => {
    const wantHeads = feeds.has('newHeads') || feedsOf('logs').length > 0
    if (wantHeads) headSources.start()
    else {
      if (headSources.sockets().length > 0 || headSources.polling) headEpoch += 1
      headSources.stop()
      follower.reset()
      blockLogs.clear()
    }
    if (feeds.has('newPendingTransactions')) pendingSources.start()
    else pendingSources.stop()
  }

  const newId = () => {
    for (;;) {
      const bytes = crypto.getRandomValues(new Uint8Array(16))
      const id = `0x${Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('')}`
      if (!owners.has(id)) return id
    }
  }

  const remove = (id: string) => {
    const owner = owners.get(id)
    if (owner === undefined) return
    owners.delete(id)
    owner.feed.subscribers.delete(id)
    if (owner.feed.subscribers.size === 0) feeds.delete(owner.feed.key)
  }

  const releaseClient = (client: StreamClient) => {
    const mine = byClient.get(client)
    if (mine === undefined) return
    byClient.delete(client)
    for (const id of mine) remove(id)
    adjustSources()
  }

  /** The head now, asked upstream (not from the cache: it must be the chain's head at this moment). */
  const currentHead = async (): Promise<Head | undefined> =>
    toHead(await resultOf(options.call('eth_getBlockByNumber', ['latest', false], isNull)).catch(() => undefined))

  /**
   * Where a subscription made now starts: the newer of the head just asked and the follower's tip
   * (a provider a little behind must not make older blocks news). Neither known (no provider
   * answered, no feed running): none, so the first head a source sends goes out to it.
   */
  const startPointOf = (asked: Head | undefined): StartPoint | undefined => {
    const tip = follower.tip
    const start = tip !== undefined && (asked === undefined || tip.number > asked.number) ? tip : asked
    return start === undefined ? undefined : { number: start.number, hash: start.hash }
  }

  /** Add a subscription whose start is known; the follower learns the start, so the gap above it is filled. */
  const register = (
    client: StreamClient,
    id: string,
    kind: SubscriptionKind,
    logFilter: LogFilter | undefined,
    asked: Head | undefined,
  ) => {
    const key = logFilter === undefined ? kind : `logs:${logFilterKey(logFilter)}`
    let feed = feeds.get(key)
    if (feed === undefined) {
      feed = { kind, key, filter: logFilter, subscribers: new Map() }
      feeds.set(key, feed)
    }
    const since = kind === 'newPendingTransactions' ? undefined : startPointOf(asked)
    if (asked !== undefined && kind !== 'newPendingTransactions') follower.begin(asked.header)
    client.subscribed?.(id)
    feed.subscribers.set(id, { client, since })
    owners.set(id, { client, feed })
    adjustSources()
  }

  return {
    async subscribe(client, kind, filter) {
      if (typeof kind !== 'string' || !KINDS.has(kind as SubscriptionKind)) {
        throw new InvalidParamsError(
          `unsupported subscription ${JSON.stringify(kind)}: newHeads, logs or newPendingTransactions`,
        )
      }
      const subscriptionKind = kind as SubscriptionKind
      if (
        subscriptionKind !== 'logs' &&
        filter !== undefined &&
        filter !== null &&
        !(typeof filter === 'object' && Object.keys(filter).length === 0)
      ) {
        throw new InvalidParamsError(`${kind} takes no filter`)
      }
      const logFilter = subscriptionKind === 'logs' ? parseLogFilter(filter) : undefined
      const id = newId()
      // The id counts against the client's limit, and is dropped by a release, while the start is asked.
      const mine = byClient.get(client) ?? new Set<string>()
      byClient.set(client, mine)
      mine.add(id)
      const asked = subscriptionKind === 'newPendingTransactions' ? undefined : await currentHead()
      // The client left while its start was asked: nothing to deliver to.
      if (byClient.get(client)?.has(id) !== true) return id
      register(client, id, subscriptionKind, logFilter, asked)
      return id
    },
    unsubscribe(client, id) {
      if (owners.get(id)?.client !== client) return false
      remove(id)
      byClient.get(client)?.delete(id)
      adjustSources()
      return true
    },
    release: (client) => releaseClient(client),
    countOf: (client) => byClient.get(client)?.size ?? 0,
    stats() {
      const subscriptions: Record<SubscriptionKind, number> = { newHeads: 0, logs: 0, newPendingTransactions: 0 }
      for (const feed of feeds.values()) subscriptions[feed.kind] += feed.subscribers.size
      return {
        subscriptions,
        feeds: [...feeds.values()].map((feed) => ({
          kind: feed.kind,
          ...(feed.filter === undefined ? {} : { filter: logFilterKey(feed.filter) }),
          subscribers: feed.subscribers.size,
        })),
        sources: [
          { kind: 'heads', polling: headSources.polling, sockets: headSources.sockets() },
          { kind: 'pending', polling: pendingSources.polling, sockets: pendingSources.sockets() },
        ],
        counters: { ...counters },
      }
    },
    stop() {
      headSources.stop()
      pendingSources.stop()
      follower.reset()
    },
    async settled() {
      await follower.settled()
      await logQueue
    },
  }
}

/** The subscription count one client may hold is checked by its transport; this is the error it throws. */
export function tooManySubscriptions(limit: number): LimitExceededError {
  return new LimitExceededError(`too many subscriptions on this connection: the limit is ${limit}`)
}

/** A `newHeads` payload: the header, without the fields only a full block has. */
function headerOf(head: Head): Record<string, unknown> {
  if (!NOT_IN_HEADER.some((field) => field in head.header)) return head.header
  const header = { ...head.header }
  for (const field of NOT_IN_HEADER) delete header[field]
  return header
}

const isNull = (value: unknown) => value === null

/** Whether a header's logs bloom says the block has logs (no bloom: unknown, taken as none). */
function hasLogs(head: Head): boolean {
  const bloom = head.header.logsBloom
  return typeof bloom === 'string' && /[1-9a-f]/i.test(bloom.slice(2))
}

/** The parsed result of an outcome, or undefined for an error. */
async function resultOf(outcome: Promise<Outcome>): Promise<unknown> {
  const { resultJson } = await outcome
  return resultJson === undefined ? undefined : JSON.parse(resultJson)
}
