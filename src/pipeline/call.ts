import { type CostOverrides, methodCost } from '../limits/method-cost.ts'
import type { Take } from '../limits/token-buckets.ts'
import type { ContextSource } from '../rpc/context.ts'
import { errorOutcome, ForbiddenError, MethodNotFoundError, RateLimitedError, RpcError } from '../rpc/errors.ts'
import { methodInfo } from '../rpc/methods.ts'
import type { CacheStatus, RpcCall, RpcErrorObject } from '../rpc/types.ts'
import { resultOf } from '../rpc/types.ts'
import type { LocalMethod, LocalMethods } from './local-methods.ts'
import { type BodyScope, type Gate, OPEN_GATE, type Resolved } from './scope.ts'

/** What the pipeline needs of the rate limiter: a take per call, and whether cache hits are free. */
export type RateLimit = {
  take(client: string, cost: number): Take | Promise<Take>
  freeHits: boolean
  /** Per-method cost overrides (`rate-costs` in the config file). */
  costs?: CostOverrides
  onRefused?(client: string): void
}

/** Observers of answered calls (the metrics): data calls and the counted local methods. */
export type CallObservers = {
  observeCall?: (
    method: string,
    cache: CacheStatus | undefined,
    error: RpcErrorObject | undefined,
    durationMs: number,
  ) => void
  /** Per named client (SPEC §13); given only while clients are named by token. */
  observeClient?: (client: string, outcome: 'hit' | 'upstream') => void
}

export type CallStageOptions = CallObservers & {
  local: LocalMethods
  /** A data call's resolution: cache tiers, coalescing, upstream, store. */
  resolve: (call: RpcCall, scope: BodyScope) => Promise<Resolved>
  rateLimit?: RateLimit
}

/** One call, answered: a local method or a data call, behind the guards, the budget and the metrics. */
export type CallStage = (call: RpcCall, scope: BodyScope) => Promise<Resolved>

/**
 * One call (SPEC §4, §8, §13): the proxy's own methods by name (management ones privileged and free
 * from loopback); the `edb_` namespace is never forwarded; a browser may not use a node's keys or
 * rewrite its chain; the client's budget is charged (before the call, or only on its way upstream
 * when hits are free: the rate limit wraps the upstream step); counted calls are observed.
 */
export function createCallStage(options: CallStageOptions): CallStage {
  return async (call, scope) => {
    const local = options.local.get(call.method)
    if (local?.group === 'management') return answerManagement(options, call, local, scope.context)
    const refused = guard(call, scope.context)
    if (refused !== undefined) return refused
    const { rateLimit } = options
    if (rateLimit !== undefined && (local !== undefined || !rateLimit.freeHits)) {
      const refusal = await charge(rateLimit, call.method, scope.context)
      if (refusal !== undefined) return refusal
    }
    const gate =
      rateLimit?.freeHits && local === undefined ? chargingGate(rateLimit, call.method, scope.context) : OPEN_GATE
    // A call that nothing holds back keeps its body's scope (no copy per call on the pass-through path).
    const inner = gate === scope.gate ? scope : { ...scope, gate }
    const answer = () => (local === undefined ? options.resolve(call, inner) : runLocal(local, call, scope.context))
    return options.observeCall === undefined && options.observeClient === undefined
      ? answer()
      : observed(options, call, scope.context, answer)
  }
}

/** The `edb_` namespace is ours; a browser origin not allowed may not use a node's keys or rewrite its chain. */
function guard(call: RpcCall, context: ContextSource): Resolved | undefined {
  const info = methodInfo(call.method)
  if (info.kind === 'management') return refusedWith(new MethodNotFoundError(call.method))
  if (!info.guarded) return undefined
  const denied = context().originDenied
  return denied === undefined ? undefined : refusedWith(new ForbiddenError(`${call.method} refused: ${denied}`))
}

async function answerManagement(
  options: CallStageOptions,
  call: RpcCall,
  method: LocalMethod,
  context: ContextSource,
): Promise<Resolved> {
  // SPEC §13: management from this machine is never limited (EDB's heartbeats must always pass).
  if (options.rateLimit !== undefined && context().loopback !== true) {
    const refusal = await charge(options.rateLimit, call.method, context, method.cost)
    if (refusal !== undefined) return refusal
  }
  if (method.privileged) {
    const denied = context().adminDenied
    if (denied !== undefined) return refusedWith(new ForbiddenError(`${call.method} refused: ${denied}`))
  }
  return runLocal(method, call, context)
}

/** A local method's answer; an `RpcError` it throws is its answer, anything else is unexpected. */
async function runLocal(method: LocalMethod, call: RpcCall, context: ContextSource): Promise<Resolved> {
  try {
    const value = await method.run(call.params, context)
    const resolved: Resolved = { outcome: resultOf(value) }
    // A subscription method answering an id made a subscription (eth_unsubscribe answers a boolean).
    if (method.group === 'subscriptions' && typeof value === 'string') resolved.subscription = value
    return resolved
  } catch (error) {
    if (error instanceof RpcError) return { outcome: errorOutcome(error) }
    throw error
  }
}

/** Take a call's cost from its client's budget; the refusal, when the budget is spent. */
async function charge(
  rateLimit: RateLimit,
  method: string,
  context: ContextSource,
  cost = methodCost(method, rateLimit.costs),
): Promise<Resolved | undefined> {
  const client = context().client ?? 'unknown'
  const taken = await rateLimit.take(client, cost)
  if (taken.ok) return undefined
  rateLimit.onRefused?.(client)
  return { outcome: errorOutcome(new RateLimitedError(taken.retryAfterS)), retryAfterS: taken.retryAfterS }
}

/** With free hits, the budget is charged only when the call goes upstream (SPEC §13). */
function chargingGate(rateLimit: RateLimit, method: string, context: ContextSource): Gate {
  return async (go) => (await charge(rateLimit, method, context)) ?? go()
}

async function observed(
  options: CallObservers,
  call: RpcCall,
  context: ContextSource,
  answer: () => Promise<Resolved>,
): Promise<Resolved> {
  const startedAt = performance.now()
  const resolved = await answer()
  // A refusal was counted by the rate limit; it carries no cache status.
  if (resolved.retryAfterS !== undefined) return resolved
  const cache = resolved.cache
  // The proxy's own answers (filters, subscriptions) are counted as calls that used no cache.
  options.observeCall?.(call.method, cache ?? 'BYPASS', resolved.outcome.error, performance.now() - startedAt)
  if (options.observeClient !== undefined && cache !== undefined) {
    options.observeClient(context().client ?? 'unknown', cache === 'HIT' || cache === 'HIT-TTL' ? 'hit' : 'upstream')
  }
  return resolved
}

function refusedWith(error: RpcError): Resolved {
  return { outcome: errorOutcome(error) }
}
