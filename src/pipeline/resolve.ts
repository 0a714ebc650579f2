import type { Cache } from '../cache/cache.ts'
import { partsOfAnswer } from '../cache/composed.ts'
import { answerCheck } from '../cache/integrity.ts'
import { blockNumberOf, type CachePlan, planCall } from '../cache/policy.ts'
import type { RealtimeCache } from '../cache/realtime-ttl.ts'
import { provenPlan, type SharedTier } from '../cache/shared-tier.ts'
import type { Chain } from '../chain/chain.ts'
import type { Forwarder } from '../providers/forward.ts'
import { bothChecks } from '../rpc/answer-check.ts'
import { methodInfo } from '../rpc/methods.ts'
import { isNotification } from '../rpc/parse.ts'
import type { Outcome, RpcCall } from '../rpc/types.ts'
import { createInflight, type Inflight } from '../util/inflight.ts'
import { settleWithin } from '../util/with-timeout.ts'
import type { StateVerifier, Verified } from '../verify/state-verifier.ts'
import { createCacheTiers } from './cache-tiers.ts'
import { isFinalAnswer } from './finality.ts'
import { type BodyScope, OPEN_GATE, type Resolved } from './scope.ts'
import { firstHit, type Tier } from './tiers.ts'

export type ResolverOptions = {
  forward: Forwarder
  cache: Cache
  /** What the resolver needs of the chain: finality, trust, history rewrites. */
  chain: Pick<Chain, 'devChain' | 'view' | 'touch' | 'refresh' | 'rebase'>
  /** Settles once the cache is open for the detected chain (or caching is off or failed to start). */
  cacheOpened: Promise<unknown>
  /** Longest a cacheable call waits for the cache to open or the chain to be verified, then goes uncached. */
  waitMs: number
  /** Short-lived answers about "now" (opt-in, SPEC §13); none: never reused. */
  realtime?: RealtimeCache
  /** The shared tier (SPEC §7), once the chain is known to be a real one. */
  sharedTier?: () => SharedTier | undefined
  /** Tiers asked after the cache's own (the prefetch, SPEC §14). */
  tiers?: Tier[]
  /** State answers proven before they are stored (SPEC §15); none: `--verify-state off`. */
  verifier?: StateVerifier
}

/** A data call's answer: from a tier, a flight in progress, or upstream (and stored when final). */
export type Resolver = (call: RpcCall, scope: BodyScope) => Promise<Resolved>

/** Everything the resolution steps share, built once. */
type Deps = ResolverOptions & {
  inflight: Inflight<Fetched>
  tiers: Tier[]
  opened: { value: boolean }
  resolve: Resolver
}

/**
 * A data call, top to bottom (SPEC §5): a dev chain's history rewrite invalidates the cache; a call
 * about "now" is forwarded (or shared for its short TTL); a cacheable one waits for the chain to be
 * known, is looked up tier by tier, joins an identical call in flight or goes upstream, and is stored
 * when final, decided before anyone else may see it. SPEC §5.1's two sharing rules are the whole
 * story: a caller gets another's answer only while that upstream request is in flight (coalescing)
 * or once it was stored as final (a HIT).
 */
export function createResolver(options: ResolverOptions): Resolver {
  const opened = { value: false }
  const markOpened = () => {
    opened.value = true
  }
  options.cacheOpened.then(markOpened, markOpened)
  const deps: Deps = {
    ...options,
    inflight: createInflight<Fetched>(),
    tiers: [],
    opened,
    resolve: (call, scope) => resolveCall(deps, call, scope),
  }
  deps.tiers = [
    ...createCacheTiers({
      cache: options.cache,
      sharedTier: options.sharedTier,
      sharedPlanOf: (plan) => sharedPlanOf(deps, plan),
      isProven: (plan) => deps.verifier?.isState(plan.method) === true,
      isFinal: (plan, resultJson) =>
        isFinalAnswer(plan, resultJson, options.chain.view, (hash) => blockOfTransaction(deps, hash)),
    }),
    ...(options.tiers ?? []),
  ]
  return deps.resolve
}

function resolveCall(deps: Deps, call: RpcCall, scope: BodyScope): Promise<Resolved> {
  const notification = isNotification(call)
  if (deps.chain.devChain && methodInfo(call.method).kind === 'dev-rewrite')
    return scope.gate(() => rewrite(deps, call, notification))
  const plan = notification ? undefined : planCall(call.method, call.params)
  if (plan !== undefined) return cacheable(deps, call, plan, scope)
  const shortLived = notification ? undefined : deps.realtime?.keyOf(call.method, call.params)
  if (shortLived !== undefined) return realtime(deps, call, shortLived, scope)
  if (scope.gate === OPEN_GATE) return bypass(deps, call, notification, scope)
  return scope.gate(() => bypass(deps, call, notification, scope))
}

/** A call about "now", forwarded as it is (SPEC §5.1: never cached). */
async function bypass(deps: Deps, call: RpcCall, notification: boolean, scope: BodyScope): Promise<Resolved> {
  return { outcome: await deps.forward(call, { notification, batch: scope.batch }), cache: 'BYPASS' }
}

async function cacheable(deps: Deps, call: RpcCall, plan: CachePlan, scope: BodyScope): Promise<Resolved> {
  const { cache, chain } = deps
  chain.touch()
  // SPEC §5.1: a cacheable call that arrives before the chain is known waits for it, then uses the cache.
  if (!deps.opened.value && !cache.ready) await settleWithin(deps.cacheOpened, deps.waitMs)
  if (cache.ready && !chain.view.trusted) await settleWithin(chain.refresh(), deps.waitMs)
  // Coalescing is per epoch: a call sent after a history rewrite never joins one sent before it.
  const flight = `${cache.epoch}:${plan.key}`
  // What is forwarded is what the key means (SPEC §5.2: calls that share a key ask one question).
  const asked: RpcCall = { ...call, params: plan.params }
  // Caching off, not started in time, or a dev chain not verified since an outage: identical reads still share one request.
  if (!cache.ready || !chain.view.trusted) {
    const check = answerCheck(plan)
    return scope.gate(async () => ({
      ...(await deps.inflight.run(flight, async () => ({
        outcome: await deps.forward(asked, { check, batch: scope.batch }),
      }))),
      cache: 'BYPASS',
    }))
  }
  const found = firstHit(deps.tiers, plan, call.params)
  const hit = found instanceof Promise ? await found : found
  if (hit !== undefined)
    return { outcome: { resultJson: hit }, cache: 'HIT', key: plan.key, verified: verifiedHit(deps, plan) }
  return scope.gate(async () => ({
    ...(await deps.inflight.run(flight, () => fetchAndStore(deps, asked, plan, scope))),
    cache: 'MISS',
  }))
}

/** A hit of a state answer says whether it was stored proven (SPEC §15: `x-verified` on hits too). */
function verifiedHit(deps: Deps, plan: CachePlan): 'proof' | 'none' | undefined {
  if (deps.verifier === undefined || !deps.verifier.isState(plan.method)) return undefined
  return deps.cache.isProven(plan.key) ? 'proof' : 'none'
}

/** An upstream answer, and for state its proof's verdict (SPEC §15). */
type Fetched = { outcome: Outcome; verified?: 'proof' | 'none' }

/**
 * Forward, then store the answer if it can never change: decided before anyone else may see it.
 * A state answer at a final block is checked against its proofs, asked beside it (SPEC §15): one
 * that contradicts them is a provider fault; one nobody could prove is stored locally only (never
 * shared), or with `required` not at all.
 */
async function fetchAndStore(deps: Deps, call: RpcCall, plan: CachePlan, scope: BodyScope): Promise<Fetched> {
  const { cache } = deps
  const epoch = cache.epoch
  const verifying = deps.verifier?.begin(
    call,
    (block) => deps.chain.view.isFinal(block),
    (proofCall, check) => deps.forward(proofCall, { check, batch: scope.batch, unsupportedFailsOver: true }),
  )
  // A trace by transaction hash is final once its transaction's block is: learn that block alongside.
  const txBlock =
    plan.anchor.kind === 'tx' && !plan.anchor.blockInResult
      ? blockOfTransaction(deps, plan.anchor.hash, scope).catch(() => undefined)
      : undefined
  // SPEC §8: an answer that does not match the question is a provider fault, tried elsewhere, never stored.
  const check = bothChecks(answerCheck(plan), verifying?.check)
  const answer = await deps.forward(call, { check, batch: scope.batch })
  if (answer.resultJson === undefined) return { outcome: answer }
  // State this verifier covers but could not judge (a block by hash, a slot it cannot read, a block
  // final only by the time the answer came) is unproven: `none`, never shared.
  const verified: Verified | undefined =
    verifying?.verified ?? (deps.verifier?.isState(call.method) === true ? 'none' : undefined)
  const final = await isFinalAnswer(
    plan,
    answer.resultJson,
    deps.chain.view,
    (hash) => txBlock ?? blockOfTransaction(deps, hash, scope),
  )
  // Every proof offered failed (its providers struck): no verdict on the answer itself, so it is unproven.
  const served = verified === 'refused' ? 'none' : verified
  const unproven = served === 'none' && deps.verifier?.mode === 'required'
  if (!final || unproven) return { outcome: answer, verified: served }
  const proven = served === 'proof'
  cache.store(plan, answer.resultJson, epoch, proven)
  if (epoch === cache.epoch && served !== 'none') deps.sharedTier?.()?.put(sharedPlanOf(deps, plan), answer.resultJson)
  for (const [part, resultJson] of partsOfAnswer(plan, call.params, answer.resultJson))
    cache.store(part, resultJson, epoch, proven)
  return { outcome: answer, verified: served }
}

/**
 * Where an answer lives in the shared tier: proven state under a key of its own (SPEC §15), so a
 * proxy that proves never takes for proven what a proxy that does not wrote under the plain key.
 */
function sharedPlanOf(deps: Deps, plan: CachePlan): CachePlan {
  return deps.verifier?.isState(plan.method) === true ? provenPlan(plan) : plan
}

/** A "now" answer shared for its short TTL (memory only); identical calls in flight share one request too. */
async function realtime(deps: Deps, call: RpcCall, key: string, scope: BodyScope): Promise<Resolved> {
  const realtime = deps.realtime as RealtimeCache
  const shared = realtime.get(key)
  if (shared !== undefined) return { outcome: { resultJson: shared }, cache: 'HIT-TTL' }
  return scope.gate(async () => {
    const epoch = deps.cache.epoch
    const { outcome } = await deps.inflight.run(`${epoch}:ttl:${key}`, async () => ({
      outcome: await deps.forward(call, { batch: scope.batch }),
    }))
    if (outcome.resultJson !== undefined && epoch === deps.cache.epoch)
      realtime.set(key, call.method, outcome.resultJson)
    return { outcome, cache: 'BYPASS' }
  })
}

/**
 * SPEC §5.1: a history rewrite invalidates the chain's cache; stores begun before it or while it
 * runs are dropped (the epoch moves on both sides of the upstream call), and finality is learned anew.
 */
async function rewrite(deps: Deps, call: RpcCall, notification: boolean): Promise<Resolved> {
  const forget = () => {
    deps.realtime?.clear()
    deps.cache.invalidate()
    deps.chain.rebase()
  }
  forget()
  const outcome = await deps.forward(call, { notification })
  forget()
  void deps.chain.refresh()
  return { outcome, cache: 'BYPASS' }
}

/** The block a transaction was mined in, asked through the resolver so the answer is cached too. */
async function blockOfTransaction(deps: Deps, hash: string, scope?: BodyScope): Promise<number | undefined> {
  const call: RpcCall = { jsonrpc: '2.0', id: 0, method: 'eth_getTransactionByHash', params: [hash] }
  const { outcome } = await deps.resolve(call, {
    context: scope?.context ?? NO_CONTEXT,
    batch: scope?.batch,
    gate: OPEN_GATE,
  })
  return outcome.resultJson === undefined ? undefined : blockNumberOf(outcome.resultJson)
}

const NO_CONTEXT = () => ({})
