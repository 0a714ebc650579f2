import type { Cache } from './cache/cache.ts'
import { rewritesHistory } from './cache/dev-chain.ts'
import { blockNumberOf, planCall } from './cache/policy.ts'
import type { CallContext, ManagementMethod } from './management/method.ts'
import type { Forwarder } from './providers/forward.ts'
import { ForbiddenError, MethodNotFoundError, RpcError, errorOutcome } from './rpc/errors.ts'
import { isNotification, parseBody, type ParsedCall } from './rpc/parse.ts'
import { toReplyText } from './rpc/reply.ts'
import { resultOf, type CacheStatus, type Outcome, type RpcCall } from './rpc/types.ts'
import { createInflight } from './util/inflight.ts'
import { createReplyMemo } from './cache/reply-memo.ts'

export type ProxyOptions = {
  /** Methods the proxy answers itself, by name. */
  management: Record<string, ManagementMethod>
  forward: Forwarder
  cache: Cache
  /** Whether the upstream is a local development chain whose history may be rewritten. */
  isDevChain: () => boolean
  maxBatchSize: number
  /** Observes every data call answered (management methods excluded). */
  observeCall?: (method: string, outcome: Outcome, durationMs: number) => void
  /** Logs an unexpected exception; the caller only sees -32603 with fixed text. */
  onUnexpected: (error: unknown) => void
}

/** The response to one body: its text (null: nothing to answer) and how the cache took part. */
export type BodyReply = { text: string | null; cache: CacheStatus }

/** The transport-independent pipeline: a body in, the response out. */
export type Proxy = {
  /** The remembered reply to a byte-identical body whose cache entry is unchanged (synchronous). */
  rememberedReply(text: string): string | undefined
  handleBody(text: string, context: CallContext): Promise<BodyReply>
  handleCall(call: RpcCall, context: CallContext): Promise<Outcome>
  /** The proxy's own lookups: cache, coalescing and failover, but not counted as client calls. */
  forwardInternal(call: RpcCall): Promise<Outcome>
}

/**
 * The pipeline, top to bottom: parse the body; answer management methods by name; key the call
 * and answer from the cache; coalesce identical misses; forward (with failover); store what can
 * never change; reply with each caller's own id. Batches run their calls independently.
 */
export function createProxy(options: ProxyOptions): Proxy {
  const management = new Map(Object.entries(options.management))
  const { cache } = options
  const inflight = createInflight<Outcome>()
  const memo = createReplyMemo({ maxEntries: MEMO_ENTRIES, maxBytes: MEMO_BYTES })

  const forwardCall = async (call: RpcCall): Promise<Outcome> => {
    const notification = isNotification(call)
    if (options.isDevChain() && rewritesHistory(call.method)) return forwardRewrite(call, notification)
    const plan = notification ? undefined : planCall(call.method, call.params)
    if (plan === undefined) return { ...(await options.forward(call, notification)), cache: 'BYPASS' }
    // Before the chain is known the cache is closed, but identical reads still share one request.
    const hit = cache.ready ? (cache.lookup(plan) ?? (await cache.lookupImported(plan, call.params))) : undefined
    if (hit !== undefined) return { resultJson: hit, cache: 'HIT', cacheKey: plan.key }
    const outcome = await inflight.run(plan.key, async () => {
      const epoch = cache.epoch
      const answer = await options.forward(call, false)
      const deciding = answer.resultJson === undefined ? undefined : cache.offer(plan, answer.resultJson, epoch)
      // Identical calls arriving while the cache learns whether the block is final share this answer too.
      if (deciding !== undefined) inflight.linger(plan.key, deciding, LINGER_MAX_MS)
      return answer
    })
    return { ...outcome, cache: cache.ready ? 'MISS' : 'BYPASS' }
  }

  // SPEC §5.1: a history rewrite invalidates the chain's cache; stores begun before it or while it
  // runs are dropped (the epoch moves on both sides of the upstream call).
  const forwardRewrite = async (call: RpcCall, notification: boolean): Promise<Outcome> => {
    cache.invalidate()
    const outcome = await options.forward(call, notification)
    cache.invalidate()
    return { ...outcome, cache: 'BYPASS' }
  }

  const handleCall = async (call: RpcCall, context: CallContext): Promise<Outcome> => {
    const method = management.get(call.method)
    if (method !== undefined) return runManagement(method, call, context)
    // The edb_ namespace is ours: never forward it to a provider.
    if (call.method.startsWith('edb_')) return errorOutcome(new MethodNotFoundError(call.method))
    if (options.observeCall === undefined) return forwardCall(call)
    const startedAt = performance.now()
    const outcome = await forwardCall(call)
    options.observeCall(call.method, outcome, performance.now() - startedAt)
    return outcome
  }

  const answer = async (entry: ParsedCall, context: CallContext): Promise<CallReply> => {
    if (entry.error !== undefined) return { text: toReplyText(entry.id, errorOutcome(entry.error)) }
    const outcome = await handleCall(entry.call, context).catch((error: unknown) => {
      options.onUnexpected(error)
      return errorOutcome(error)
    })
    if (isNotification(entry.call)) return { text: null, cache: outcome.cache }
    return { text: toReplyText(entry.call.id ?? null, outcome), cache: outcome.cache, outcome }
  }

  /** A byte-identical body whose cache entry still holds the same result gets the same reply. */
  const rememberedReply = (text: string): string | undefined => {
    const entry = memo.get(text)
    if (entry === undefined) return undefined
    if (cache.peek(entry.key) === entry.resultJson) {
      options.observeCall?.(entry.method, REMEMBERED_HIT, 0)
      return entry.reply
    }
    memo.forget(text)
    return undefined
  }

  return {
    handleCall,
    forwardInternal: forwardCall,
    rememberedReply,
    async handleBody(text, context) {
      const parsed = parseBody(text, { maxBatchSize: options.maxBatchSize })
      if (parsed.kind === 'invalid') return { text: toReplyText(null, errorOutcome(parsed.error)), cache: 'BYPASS' }
      if (parsed.kind === 'single') {
        const reply = await answer(parsed.entry, context)
        const { outcome } = reply
        const { call } = parsed.entry
        if (call !== undefined && reply.text !== null && outcome?.cacheKey !== undefined && outcome.resultJson !== undefined) {
          memo.remember(text, { method: call.method, key: outcome.cacheKey, resultJson: outcome.resultJson, reply: reply.text })
        }
        return { text: reply.text, cache: reply.cache ?? 'BYPASS' }
      }
      const replies = await Promise.all(parsed.entries.map((entry) => answer(entry, context)))
      const present = replies.flatMap((reply) => (reply.text === null ? [] : [reply.text]))
      // JSON-RPC 2.0 §6: a batch of notifications only gets no response at all.
      return { text: present.length === 0 ? null : `[${present.join(',')}]`, cache: batchCacheStatus(replies) }
    },
  }
}

/** One call's reply text (null for a notification), with what produced it. */
type CallReply = { text: string | null; cache?: CacheStatus; outcome?: Outcome }

/** What a remembered reply stands for, for the metrics. */
const REMEMBERED_HIT: Outcome = { resultJson: '', cache: 'HIT' }

/** Longest time an answer awaiting its store decision is shared with new identical calls. */
const LINGER_MAX_MS = 1_000

const MEMO_ENTRIES = 4_096
const MEMO_BYTES = 32 << 20

/** A batch is a HIT when every cached call hit, a MISS when any went upstream for a cacheable call. */
function batchCacheStatus(replies: { cache?: CacheStatus }[]): CacheStatus {
  const statuses = replies.map((reply) => reply.cache).filter((status) => status !== undefined && status !== 'BYPASS')
  if (statuses.length === 0) return 'BYPASS'
  return statuses.every((status) => status === 'HIT') ? 'HIT' : 'MISS'
}

/** The block a transaction was mined in, asked through the pipeline so the answer is cached too. */
export function createTxBlockLookup(proxy: () => Proxy): (hash: string) => Promise<number | undefined> {
  return async (hash) => {
    const outcome = await proxy().forwardInternal({ jsonrpc: '2.0', id: 0, method: 'eth_getTransactionByHash', params: [hash] })
    return outcome.resultJson === undefined ? undefined : blockNumberOf(outcome.resultJson)
  }
}

async function runManagement(method: ManagementMethod, call: RpcCall, context: CallContext): Promise<Outcome> {
  try {
    if (method.privileged && context.adminDenied !== undefined) {
      throw new ForbiddenError(`${call.method} refused: ${context.adminDenied}`)
    }
    return resultOf(await method.run(call.params, context))
  } catch (error) {
    if (error instanceof RpcError) return errorOutcome(error)
    throw error
  }
}
