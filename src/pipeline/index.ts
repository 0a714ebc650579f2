import type { Cache } from '../cache/cache.ts'
import { createReplyMemo, type MemoEntry } from '../cache/reply-memo.ts'
import type { Chain } from '../chain/chain.ts'
import { methodCost } from '../limits/method-cost.ts'
import type { UpstreamBatch } from '../providers/upstream-batch.ts'
import type { ContextSource } from '../rpc/context.ts'
import { errorOutcome } from '../rpc/errors.ts'
import { isNotification, type ParsedCall, parseBody } from '../rpc/parse.ts'
import { toReplyText } from '../rpc/reply.ts'
import type { CacheStatus } from '../rpc/types.ts'
import { type CallObservers, type CallStage, createCallStage, type RateLimit } from './call.ts'
import type { LocalMethods } from './local-methods.ts'
import type { Resolver } from './resolve.ts'
import { type BodyScope, OPEN_GATE, type Resolved } from './scope.ts'

export type PipelineOptions = CallObservers & {
  /** The methods the proxy answers itself (`createLocalMethods`). */
  local: LocalMethods
  /** A data call's resolution (`createResolver`). */
  resolve: Resolver
  /** What remembered replies need: the cache entry they came from still holds, the chain is trusted. */
  cache: Pick<Cache, 'peek'>
  chain: Pick<Chain, 'view' | 'touch'>
  maxBatchSize: number
  /** Logs an unexpected exception; the caller only sees -32603 with fixed text. */
  onUnexpected: (error: unknown) => void
  /** Per-client budgets (SPEC §13); none: nothing is limited. */
  rateLimit?: RateLimit
  /** The upstream side of one client batch: its misses travel to a provider as JSON-RPC batches. None: one by one. */
  openUpstreamBatch?: () => UpstreamBatch
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
  /** Its state answers were all proven (`proof`), or one was not provable (`none`); absent: no state answer (SPEC §15). */
  verified?: 'proof' | 'none'
}

/** The transport-independent pipeline: every transport hands it a body and sends back what it answers. */
export type Pipeline = {
  /** A body in, the reply out; synchronous when a byte-identical body's remembered reply still holds. */
  handle(text: string, context: ContextSource): BodyReply | Promise<BodyReply>
}

/** One call's reply text (null for a notification), with what produced it. */
type CallReply = { text: string | null; resolved?: Resolved }

const MEMO_ENTRIES = 4_096
const MEMO_BYTES = 32 << 20

/**
 * The request path (SPEC §3-§5), as stages: a byte-identical body whose cache entry still holds gets
 * its remembered reply; otherwise the body is parsed, each call answered by the call stage (local
 * methods, guards, budget, metrics, then the resolver's tiers, coalescing and upstream) with every
 * call of a batch independent, and the replies assembled with each caller's own id.
 */
export function createPipeline(options: PipelineOptions): Pipeline {
  const answerCall = createCallStage(options)
  const memo = createReplyMemo({ maxEntries: MEMO_ENTRIES, maxBytes: MEMO_BYTES })
  const remembered = (text: string): MemoEntry | undefined => {
    const entry = memo.get(text)
    if (entry === undefined) return undefined
    if (options.cache.peek(entry.key) === entry.resultJson && options.chain.view.trusted) return entry
    memo.forget(text)
    return undefined
  }
  const rememberedReply = (entry: MemoEntry, context: ContextSource): BodyReply => {
    options.chain.touch()
    options.observeCall?.(entry.method, 'HIT', undefined, 0)
    options.observeClient?.(context().client ?? 'unknown', 'hit')
    return entry.verified === undefined
      ? { text: entry.reply, cache: 'HIT' }
      : { text: entry.reply, cache: 'HIT', verified: entry.verified }
  }
  const handleBody = (text: string, context: ContextSource) => answerBody(options, answerCall, memo, text, context)
  return {
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

/** Parse a body, answer its calls (a batch's independently), and assemble the reply. */
async function answerBody(
  options: PipelineOptions,
  answerCall: CallStage,
  memo: ReturnType<typeof createReplyMemo>,
  text: string,
  context: ContextSource,
): Promise<BodyReply> {
  const parsed = parseBody(text, { maxBatchSize: options.maxBatchSize })
  if (parsed.kind === 'invalid') return { text: toReplyText('null', errorOutcome(parsed.error)), cache: 'BYPASS' }
  if (parsed.kind === 'single') {
    const reply = await answerEntry(options, answerCall, parsed.entry, { context, gate: OPEN_GATE })
    const { resolved } = reply
    const { call } = parsed.entry
    if (
      call !== undefined &&
      reply.text !== null &&
      resolved?.key !== undefined &&
      resolved.outcome.resultJson !== undefined
    ) {
      memo.remember(text, {
        method: call.method,
        key: resolved.key,
        resultJson: resolved.outcome.resultJson,
        reply: reply.text,
        verified: resolved.verified,
      })
    }
    return assemble([reply], reply.text)
  }
  const scope: BodyScope = { context, batch: options.openUpstreamBatch?.(), gate: OPEN_GATE }
  const replies = await Promise.all(parsed.entries.map((entry) => answerEntry(options, answerCall, entry, scope)))
  const present = replies.flatMap((reply) => (reply.text === null ? [] : [reply.text]))
  // JSON-RPC 2.0 §6: a batch of notifications only gets no response at all.
  return assemble(replies, present.length === 0 ? null : `[${present.join(',')}]`)
}

/** One parsed entry's reply text; an unexpected exception becomes -32603 with fixed text (details logged). */
async function answerEntry(
  options: PipelineOptions,
  answerCall: CallStage,
  entry: ParsedCall,
  scope: BodyScope,
): Promise<CallReply> {
  if (entry.error !== undefined) return { text: toReplyText(entry.idJson, errorOutcome(entry.error)) }
  const resolved = await answerCall(entry.call, scope).catch((error: unknown): Resolved => {
    options.onUnexpected(error)
    return { outcome: errorOutcome(error) }
  })
  if (isNotification(entry.call)) return { text: null, resolved }
  return { text: toReplyText(entry.idJson, resolved.outcome), resolved }
}

/** The body's reply from its calls' replies: cache status, providers, a refusal of all, subscriptions made. */
function assemble(replies: CallReply[], text: string | null): BodyReply {
  const reply: BodyReply = { text, cache: cacheStatusOf(replies) }
  const providers = new Set<string>()
  const subscriptions: string[] = []
  let retryAfterS: number | undefined = 0
  for (const { resolved, text: callText } of replies) {
    if (resolved?.outcome.provider !== undefined) providers.add(resolved.outcome.provider)
    if (resolved?.verified !== undefined && reply.verified !== 'none') reply.verified = resolved.verified
    if (resolved?.subscription !== undefined) subscriptions.push(resolved.subscription)
    // HTTP 429 only when every answered call was refused by the rate limit: the longest wait any was told.
    if (callText !== null && retryAfterS !== undefined)
      retryAfterS = resolved?.retryAfterS === undefined ? undefined : Math.max(retryAfterS, resolved.retryAfterS)
  }
  if (providers.size > 0) reply.provider = [...providers].join(', ')
  if (subscriptions.length > 0) reply.subscriptions = subscriptions
  if (retryAfterS !== undefined && replies.some((entry) => entry.text !== null)) reply.retryAfterS = retryAfterS
  return reply
}

/** One call: its own status. A batch is a HIT when every cached call hit, a MISS when any went upstream for a cacheable call. */
function cacheStatusOf(replies: CallReply[]): CacheStatus {
  if (replies.length === 1) return replies[0]?.resolved?.cache ?? 'BYPASS'
  const statuses = replies
    .map((reply) => reply.resolved?.cache)
    .filter((status) => status !== undefined && status !== 'BYPASS')
  if (statuses.length === 0) return 'BYPASS'
  return statuses.every((status) => status === 'HIT' || status === 'HIT-TTL') ? 'HIT' : 'MISS'
}
