import { accountInfoParts, composeAccountInfo } from './cache/account-info.ts'
import type { Cache } from './cache/cache.ts'
import { answerCheck } from './cache/integrity.ts'
import { blockNumberOf, type CachePlan, planCall, verdictFor } from './cache/policy.ts'
import type { RealtimeCache } from './cache/realtime-ttl.ts'
import { createReplyMemo } from './cache/reply-memo.ts'
import type { SharedTier } from './cache/shared-tier.ts'
import type { Chain } from './chain/chain.ts'
import { type CostOverrides, methodCost } from './limits/method-cost.ts'
import type { Take } from './limits/token-buckets.ts'
import type { ManagementMethod } from './management/method.ts'
import type { ClientOutcome } from './metrics/client-calls.ts'
import type { Forwarder } from './providers/forward.ts'
import type { UpstreamBatch } from './providers/upstream-batch.ts'
import type { ContextSource } from './rpc/context.ts'
import { errorOutcome, ForbiddenError, MethodNotFoundError, RateLimitedError, RpcError } from './rpc/errors.ts'
import { methodInfo } from './rpc/methods.ts'
import { isNotification, type ParsedCall, parseBody } from './rpc/parse.ts'
import { toReplyText } from './rpc/reply.ts'
import { type CacheStatus, type Outcome, type RpcCall, resultOf } from './rpc/types.ts'
import { createInflight } from './util/inflight.ts'
import { settleWithin } from './util/settle-within.ts'

export type PipelineOptions = {
  /** Methods the proxy answers itself, by name. */
  management: Record<string, ManagementMethod>
  forward: Forwarder
  cache: Cache
  /** What the proxy knows of its chain: finality, trust, history rewrites. */
  chain: Chain
  /** Settles once the cache is open for the detected chain (or caching is off or failed to start). */
  cacheOpened: Promise<unknown>
  /** Longest a cacheable call waits for the cache to open or the chain to be verified, then goes uncached. */
  waitMs: number
  maxBatchSize: number
  /** Observes every data call answered (management methods excluded). */
  observeCall?: (method: string, outcome: Outcome, durationMs: number) => void
  /**
   * Counts every data call per client (SPEC §13); given only while clients are named by token, since
   * asking who calls costs a token check. Refusals are counted by the rate limit's `onRefused`.
   */
  observeClient?: (client: string, outcome: ClientOutcome) => void
  /** Logs an unexpected exception; the caller only sees -32603 with fixed text. */
  onUnexpected: (error: unknown) => void
  /** Per-client budgets (SPEC §13); none: nothing is limited. */
  rateLimit?: RateLimit
  /** Short-lived answers about "now" (opt-in, SPEC §13); none: never reused. */
  realtime?: RealtimeCache
  /** The upstream side of one client batch: its misses travel to a provider as JSON-RPC batches. None: one by one. */
  openUpstreamBatch?: () => UpstreamBatch
  /** The shared tier (SPEC §7), once the chain is known to be a real one; asked after the local cache misses. */
  sharedTier?: () => SharedTier | undefined
}

/** What the pipeline needs of the rate limiter: a take per call, and whether cache hits are free. */
export type RateLimit = {
  take(client: string, cost: number): Take | Promise<Take>
  freeHits: boolean
  /** Per-method cost overrides (`rate-costs` in the config file). */
  costs?: CostOverrides
  onRefused?(client: string): void
}

/** The response to one body: its text (null: nothing to answer), how the cache took part, who answered. */
export type BodyReply = {
  text: string | null
  cache: CacheStatus
  provider?: string
  /** Every call of the body was refused by the rate limit: seconds until the budget allows one (HTTP 429). */
  retryAfterS?: number
  /** Subscriptions this body created (`eth_subscribe`): their events wait until this reply is sent. */
  subscriptions?: string[]
}

/** The transport-independent pipeline: every transport hands it a body and sends back what it answers. */
export type Pipeline = {
  /** A body in, the reply out; synchronous when a byte-identical body's remembered reply still holds. */
  handle(text: string, context: ContextSource): BodyReply | Promise<BodyReply>
  /** The proxy's own lookups: cache, coalescing and failover, but not counted as client calls. */
  forwardInternal(call: RpcCall): Promise<Outcome>
}

/**
 * The pipeline, top to bottom: parse the body; answer management methods by name; key the call
 * and answer from the cache; coalesce identical misses; forward (with failover); store what can
 * never change, decided against the chain's view before the answer is delivered; reply with each
 * caller's own id. Batches run their calls independently.
 *
 * SPEC §5.1's two sharing rules are the whole story: a caller gets another's answer only while that
 * upstream request is in flight (coalescing) or once it was stored as final (a HIT).
 */
export function createPipeline(options: PipelineOptions): Pipeline {
  const management = new Map(Object.entries(options.management))
  const { cache, chain, forward } = options
  const inflight = createInflight<Outcome>()
  const memo = createReplyMemo({ maxEntries: MEMO_ENTRIES, maxBytes: MEMO_BYTES })
  let opened = false
  const markOpened = () => {
    opened = true
  }
  options.cacheOpened.then(markOpened, markOpened)

  /**
   * `beforeUpstream`: asked once the call will go upstream (after a cache miss), and may refuse it
   * (free cache hits, SPEC §13). `batch`: the client batch the call came in, whose misses go upstream together.
   */
  const forwardCall = async (
    call: RpcCall,
    info = methodInfo(call.method),
    beforeUpstream?: () => Promise<RpcError | undefined>,
    batch?: UpstreamBatch,
  ): Promise<Outcome> => {
    const notification = isNotification(call)
    if (chain.devChain && info.kind === 'dev-rewrite') {
      const refused = await beforeUpstream?.()
      return refused === undefined ? forwardRewrite(call, notification) : errorOutcome(refused)
    }
    const plan = notification ? undefined : planCall(call.method, call.params)
    if (plan === undefined) {
      const shortLived = notification ? undefined : options.realtime?.keyOf(call.method, call.params)
      if (shortLived !== undefined) return realtimeCall(call, shortLived, beforeUpstream, batch)
      const refused = await beforeUpstream?.()
      if (refused !== undefined) return errorOutcome(refused)
      return { ...(await forward(call, notification, undefined, batch)), cache: 'BYPASS' }
    }
    chain.touch()
    // SPEC §5.1: a cacheable call that arrives before the chain is known waits for it, then uses the cache.
    if (!opened && !cache.ready) await settleWithin(options.cacheOpened, options.waitMs)
    if (cache.ready && !chain.view.trusted) await settleWithin(chain.refresh(), options.waitMs)
    // Caching off, not started in time, or a dev chain not verified since an outage: identical reads still share one request.
    // Coalescing is per epoch: a call sent after a history rewrite never joins one sent before it.
    const flight = `${cache.epoch}:${plan.key}`
    // What is forwarded is what the key means (SPEC §5.2: calls that share a key ask one question).
    const asked: RpcCall = { ...call, params: plan.params }
    if (!cache.ready || !chain.view.trusted) {
      const refused = await beforeUpstream?.()
      if (refused !== undefined) return errorOutcome(refused)
      return { ...(await inflight.run(flight, () => forward(asked, false, answerCheck(plan), batch))), cache: 'BYPASS' }
    }
    const hit = cache.lookup(plan) ?? composedHit(plan, call.params) ?? (await importedHit(plan, call.params)) ?? (await sharedHit(plan))
    if (hit !== undefined) return { resultJson: hit, cache: 'HIT', cacheKey: plan.key }
    const refused = await beforeUpstream?.()
    if (refused !== undefined) return errorOutcome(refused)
    return { ...(await inflight.run(flight, () => fetchAndStore(asked, plan, batch))), cache: 'MISS' }
  }

  /** A "now" answer shared for its short TTL (memory only); identical calls in flight share one request too. */
  const realtimeCall = async (call: RpcCall, key: string, beforeUpstream?: () => Promise<RpcError | undefined>, batch?: UpstreamBatch): Promise<Outcome> => {
    const realtime = options.realtime as RealtimeCache
    const shared = realtime.get(key)
    if (shared !== undefined) return { resultJson: shared, cache: 'HIT-TTL' }
    const refused = await beforeUpstream?.()
    if (refused !== undefined) return errorOutcome(refused)
    const epoch = cache.epoch
    const outcome = await inflight.run(`${epoch}:ttl:${key}`, () => forward(call, false, undefined, batch))
    if (outcome.resultJson !== undefined && epoch === cache.epoch) realtime.set(key, call.method, outcome.resultJson)
    return { ...outcome, cache: 'BYPASS' }
  }

  /** Forward, then store the answer if it can never change: decided before anyone else may see it. */
  const fetchAndStore = async (call: RpcCall, plan: CachePlan, batch?: UpstreamBatch): Promise<Outcome> => {
    const epoch = cache.epoch
    // A trace by transaction hash is final once its transaction's block is: learn that block alongside.
    const txBlock = plan.anchor.kind === 'tx' && !plan.anchor.blockInResult ? blockOfTransaction(plan.anchor.hash, batch).catch(() => undefined) : undefined
    // SPEC §8: an answer that does not match the question is a provider fault, tried elsewhere, never stored.
    const answer = await forward(call, false, answerCheck(plan), batch)
    if (answer.resultJson !== undefined && (await isFinalAnswer(plan, answer.resultJson, txBlock))) {
      cache.store(plan, answer.resultJson, epoch)
      if (epoch === cache.epoch) options.sharedTier?.()?.put(plan, answer.resultJson)
      for (const [part, resultJson] of accountInfoParts(plan, call.params, answer.resultJson)) cache.store(part, resultJson, epoch)
    }
    return answer
  }

  /** An account's info composed of its balance, nonce and code, all cached (hence final) at the same block. */
  const composedHit = (plan: CachePlan, params: unknown): string | undefined => {
    const resultJson = composeAccountInfo(plan, params, cache.lookup)
    if (resultJson !== undefined) cache.store(plan, resultJson, cache.epoch)
    return resultJson
  }

  /** Whether an answer can never change (SPEC §5.1), against the chain's synchronous view. */
  const isFinalAnswer = (plan: CachePlan, resultJson: string, txBlock?: Promise<number | undefined>): boolean | Promise<boolean> => {
    const verdict = verdictFor(plan, resultJson)
    if (verdict.kind === 'store') return true
    if (verdict.kind === 'when-final') return chain.view.isFinal(verdict.block)
    if (verdict.kind === 'skip') return false
    return (txBlock ?? blockOfTransaction(verdict.hash)).then((block) => block !== undefined && chain.view.isFinal(block))
  }

  /** A final answer another proxy stored in the shared tier: copied down into memory and the local store. */
  const sharedHit = async (plan: CachePlan): Promise<string | undefined> => {
    const tier = options.sharedTier?.()
    if (tier === undefined) return undefined
    const epoch = cache.epoch
    const resultJson = await tier.lookup(plan)
    if (resultJson !== undefined) cache.store(plan, resultJson, epoch)
    return resultJson
  }

  /** An entry imported from the reference cache, served (and kept) only when §5 allows it; no promise when there is none. */
  const importedHit = (plan: CachePlan, params: unknown): Promise<string | undefined> | undefined => {
    const resultJson = cache.imported(plan, params)
    return resultJson === undefined ? undefined : judgeImported(plan, resultJson)
  }

  const judgeImported = async (plan: CachePlan, resultJson: string): Promise<string | undefined> => {
    const epoch = cache.epoch
    if (!(await isFinalAnswer(plan, resultJson))) return undefined
    cache.store(plan, resultJson, epoch)
    return resultJson
  }

  /** The block a transaction was mined in, asked through the pipeline so the answer is cached too. */
  const blockOfTransaction = async (hash: string, batch?: UpstreamBatch): Promise<number | undefined> => {
    const outcome = await forwardCall({ jsonrpc: '2.0', id: 0, method: 'eth_getTransactionByHash', params: [hash] }, undefined, undefined, batch)
    return outcome.resultJson === undefined ? undefined : blockNumberOf(outcome.resultJson)
  }

  // SPEC §5.1: a history rewrite invalidates the chain's cache; stores begun before it or while it
  // runs are dropped (the epoch moves on both sides of the upstream call), and finality is learned anew.
  const forwardRewrite = async (call: RpcCall, notification: boolean): Promise<Outcome> => {
    options.realtime?.clear()
    cache.invalidate()
    chain.rebase()
    const outcome = await forward(call, notification)
    options.realtime?.clear()
    cache.invalidate()
    chain.rebase()
    void chain.refresh()
    return { ...outcome, cache: 'BYPASS' }
  }

  /** Take a call's cost from its client's budget; the refusal, if the budget is spent. */
  const charge = async (
    rateLimit: RateLimit,
    method: string,
    context: ContextSource,
    cost = methodCost(method, rateLimit.costs),
  ): Promise<RpcError | undefined> => {
    const client = context().client ?? 'unknown'
    const taken = await rateLimit.take(client, cost)
    if (taken.ok) return undefined
    rateLimit.onRefused?.(client)
    return new RateLimitedError(taken.retryAfterS)
  }

  const handleCall = async (call: RpcCall, context: ContextSource, batch?: UpstreamBatch): Promise<Outcome> => {
    const method = management.get(call.method)
    const { rateLimit } = options
    if (method !== undefined) {
      // SPEC §13: management from this machine is never limited (EDB's heartbeats must always pass).
      const refused = rateLimit === undefined || context().loopback === true ? undefined : await charge(rateLimit, call.method, context, 1)
      return refused === undefined ? runManagement(call, method, context) : errorOutcome(refused)
    }
    const info = methodInfo(call.method)
    // The edb_ namespace is ours: never forward it to a provider.
    if (info.kind === 'management') return errorOutcome(new MethodNotFoundError(call.method))
    // SPEC §8: a web page may not spend a dev node's unlocked accounts or rewrite its chain.
    if (info.guarded) {
      const denied = context().originDenied
      if (denied !== undefined) return errorOutcome(new ForbiddenError(`${call.method} refused: ${denied}`))
    }
    let beforeUpstream: (() => Promise<RpcError | undefined>) | undefined
    if (rateLimit !== undefined) {
      const whenUpstream = () => charge(rateLimit, call.method, context)
      if (rateLimit.freeHits) beforeUpstream = whenUpstream
      else {
        const refused = await whenUpstream()
        if (refused !== undefined) return errorOutcome(refused)
      }
    }
    if (options.observeCall === undefined && options.observeClient === undefined) return forwardCall(call, info, beforeUpstream, batch)
    const startedAt = performance.now()
    const outcome = await forwardCall(call, info, beforeUpstream, batch)
    options.observeCall?.(call.method, outcome, performance.now() - startedAt)
    // No cache status: refused before going upstream (free hits), already counted as refused.
    if (options.observeClient !== undefined && outcome.cache !== undefined) options.observeClient(context().client ?? 'unknown', clientOutcomeOf(outcome.cache))
    return outcome
  }

  const answer = async (entry: ParsedCall, context: ContextSource, batch?: UpstreamBatch): Promise<CallReply> => {
    if (entry.error !== undefined) return { text: toReplyText(entry.idJson, errorOutcome(entry.error)) }
    const outcome = await handleCall(entry.call, context, batch).catch((error: unknown) => {
      options.onUnexpected(error)
      return errorOutcome(error)
    })
    if (isNotification(entry.call)) return { text: null, cache: outcome.cache }
    return { text: toReplyText(entry.idJson, outcome), cache: outcome.cache, outcome }
  }

  /** A byte-identical body whose cache entry still holds the same result gets the same reply. */
  /** The remembered entry for a byte-identical body whose cache entry still holds the same result. */
  const remembered = (text: string) => {
    const entry = memo.get(text)
    if (entry === undefined) return undefined
    if (cache.peek(entry.key) === entry.resultJson && chain.view.trusted) return entry
    memo.forget(text)
    return undefined
  }

  const rememberedReply = (entry: NonNullable<ReturnType<typeof remembered>>, context: ContextSource): BodyReply => {
    chain.touch()
    options.observeCall?.(entry.method, REMEMBERED_HIT, 0)
    options.observeClient?.(context().client ?? 'unknown', 'hit')
    return { text: entry.reply, cache: 'HIT' }
  }

  const handleBody = async (text: string, context: ContextSource): Promise<BodyReply> => {
    const parsed = parseBody(text, { maxBatchSize: options.maxBatchSize })
    if (parsed.kind === 'invalid') return { text: toReplyText('null', errorOutcome(parsed.error)), cache: 'BYPASS' }
    if (parsed.kind === 'single') {
      const reply = await answer(parsed.entry, context)
      const { outcome } = reply
      const { call } = parsed.entry
      if (call !== undefined && reply.text !== null && outcome?.cacheKey !== undefined && outcome.resultJson !== undefined) {
        memo.remember(text, { method: call.method, key: outcome.cacheKey, resultJson: outcome.resultJson, reply: reply.text })
      }
      return {
        text: reply.text,
        cache: reply.cache ?? 'BYPASS',
        provider: outcome?.provider,
        retryAfterS: retryAfterOf([reply]),
        subscriptions: subscriptionsOf([parsed.entry], [reply]),
      }
    }
    const batch = options.openUpstreamBatch?.()
    const replies = await Promise.all(parsed.entries.map((entry) => answer(entry, context, batch)))
    const present = replies.flatMap((reply) => (reply.text === null ? [] : [reply.text]))
    // JSON-RPC 2.0 §6: a batch of notifications only gets no response at all.
    return {
      text: present.length === 0 ? null : `[${present.join(',')}]`,
      cache: batchCacheStatus(replies),
      provider: batchProviders(replies),
      retryAfterS: retryAfterOf(replies),
      subscriptions: subscriptionsOf(parsed.entries, replies),
    }
  }

  return {
    forwardInternal: forwardCall,
    handle(text, context) {
      const entry = remembered(text)
      if (entry === undefined) return handleBody(text, context)
      const { rateLimit } = options
      if (rateLimit === undefined || rateLimit.freeHits) return rememberedReply(entry, context)
      // A hit that costs is charged here too; a refused one takes the full path, which answers the refusal.
      const taken = rateLimit.take(context().client ?? 'unknown', methodCost(entry.method, rateLimit.costs))
      if (!(taken instanceof Promise)) return taken.ok ? rememberedReply(entry, context) : handleBody(text, context)
      return taken.then((result) => (result.ok ? rememberedReply(entry, context) : handleBody(text, context)))
    },
  }
}

/** One call's reply text (null for a notification), with what produced it. */
type CallReply = { text: string | null; cache?: CacheStatus; outcome?: Outcome }

/** What a remembered reply stands for, for the metrics. */
const REMEMBERED_HIT: Outcome = { resultJson: '', cache: 'HIT' }

const MEMO_ENTRIES = 4_096
const MEMO_BYTES = 32 << 20

/** When every answered call was refused by the rate limit: the longest wait any of them was told; else undefined. */
function retryAfterOf(replies: CallReply[]): number | undefined {
  let longest: number | undefined
  for (const reply of replies) {
    if (reply.text === null) continue
    const data = reply.outcome?.error?.data as { retry_after_seconds?: unknown } | undefined
    if (reply.outcome?.error?.message !== 'rate limit exceeded' || typeof data?.retry_after_seconds !== 'number') return undefined
    longest = Math.max(longest ?? 0, data.retry_after_seconds)
  }
  return longest
}

/** For per-client metrics: answered from the cache (for good or for a short while), or sent upstream. */
function clientOutcomeOf(cache: CacheStatus): ClientOutcome {
  return cache === 'HIT' || cache === 'HIT-TTL' ? 'hit' : 'upstream'
}

/** The ids of the subscriptions `eth_subscribe` calls of a body created; undefined when none did. */
function subscriptionsOf(entries: ParsedCall[], replies: CallReply[]): string[] | undefined {
  const ids = entries.flatMap((entry, index) => {
    const resultJson = replies[index]?.outcome?.resultJson
    return entry.call?.method === 'eth_subscribe' && resultJson !== undefined ? [JSON.parse(resultJson) as string] : []
  })
  return ids.length === 0 ? undefined : ids
}

/** A batch is a HIT when every cached call hit, a MISS when any went upstream for a cacheable call. */
function batchCacheStatus(replies: { cache?: CacheStatus }[]): CacheStatus {
  const statuses = replies.map((reply) => reply.cache).filter((status) => status !== undefined && status !== 'BYPASS')
  if (statuses.length === 0) return 'BYPASS'
  return statuses.every((status) => status === 'HIT' || status === 'HIT-TTL') ? 'HIT' : 'MISS'
}

/** The providers that answered a batch's calls, each named once. */
function batchProviders(replies: CallReply[]): string | undefined {
  const labels = new Set(replies.flatMap((reply) => (reply.outcome?.provider === undefined ? [] : [reply.outcome.provider])))
  return labels.size === 0 ? undefined : [...labels].join(', ')
}

async function runManagement(call: RpcCall, method: ManagementMethod, context: ContextSource): Promise<Outcome> {
  try {
    if (methodInfo(call.method).privileged) {
      const denied = context().adminDenied
      if (denied !== undefined) throw new ForbiddenError(`${call.method} refused: ${denied}`)
    }
    return resultOf(await method.run(call.params, context))
  } catch (error) {
    if (error instanceof RpcError) return errorOutcome(error)
    throw error
  }
}
