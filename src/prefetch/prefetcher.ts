import type { Cache } from '../cache/cache.ts'
import { composeFromParts, isComposed, partPlansOf } from '../cache/composed.ts'
import { type CachePlan, planCall } from '../cache/policy.ts'
import type { ChainView } from '../chain/head-tracker.ts'
import type { Resolved } from '../pipeline/scope.ts'
import type { Tier } from '../pipeline/tiers.ts'
import type { Forwarder } from '../providers/forward.ts'
import type { UpstreamBatch } from '../providers/upstream-batch.ts'
import { methodInfo } from '../rpc/methods.ts'
import { parseQuantity, toQuantity } from '../rpc/quantity.ts'
import type { RpcCall } from '../rpc/types.ts'
import { settleWithin } from '../util/with-timeout.ts'
import type { AccountVerdict, StateVerifier } from '../verify/state-verifier.ts'
import type { BlockInterest } from './block-interest.ts'
import { createPrefetchProgress, type PrefetchProgress } from './prefetch-progress.ts'
import { MalformedPrestateError, type ParentState, parentStateOf, prestatesOfBlockTrace } from './prestate.ts'
import { type PartAccount, partsOf } from './proof-parts.ts'

export type PrefetcherOptions = {
  forward: Forwarder
  /** The upstream side of a batch: the per-transaction traces go together. */
  openBatch?: () => UpstreamBatch
  cache: Cache
  view: () => ChainView
  interest: BlockInterest
  /** Longest a read waits for a prefetch in flight (the upstream timeout). */
  waitMs: number
  /** Prefetches in flight at once; beyond it a read goes upstream as usual. @default 4 */
  maxInFlight?: number
  /** Prefetched keys remembered to count those a client later asks for. @default 200_000 */
  maxTrackedKeys?: number
  /** Proves what is prefetched before it is stored (SPEC §15); none: `--verify-state off`. */
  verifier?: StateVerifier
}

/** How prefetches went, by source and outcome, and how many of the keys they stored a client later asked for. */
export type PrefetchStats = {
  prefetches: Record<string, number>
  keys_stored: number
  keys_used: number
  useful_share: string
  in_flight: number
}

/** The prefetch (SPEC §14): a tier that waits for a replayed block's parent state, and an observer that learns what is replayed. */
export type Prefetcher = {
  /** For a replay's state read at a final block B missing every other tier, while B+1 was asked for: wait for B+1's prefetch, then look again. */
  tier: Tier
  /** Notes a block a client asked about (answers that went upstream); counts reads of prefetched keys. */
  observe(call: RpcCall, resolved: Resolved): void
  stats(): PrefetchStats
}

/** Blocks whose prefetch was tried, kept so a read of something it did not hold never starts it again. */
const TRIED_BLOCKS = 256

export function createPrefetcher(options: PrefetcherOptions): Prefetcher {
  const maxInFlight = options.maxInFlight ?? 4
  const maxTrackedKeys = options.maxTrackedKeys ?? 200_000
  const inFlight = new Map<number, { run: Promise<void>; progress: PrefetchProgress }>()
  const tried = new Set<number>()
  const tracked = new Set<string>()
  const outcomes: Record<string, number> = {}
  const counts = { stored: 0, used: 0 }
  const count = (outcome: string) => {
    outcomes[outcome] = (outcomes[outcome] ?? 0) + 1
  }

  const start = (block: number): PrefetchProgress => {
    tried.add(block)
    if (tried.size > TRIED_BLOCKS) tried.delete(tried.values().next().value as number)
    const progress = createPrefetchProgress()
    const run = prefetchBlock(options, block, progress)
      .then((result) => {
        count(result.outcome)
        for (const key of result.keys) if (tracked.size < maxTrackedKeys) tracked.add(key)
        counts.stored += result.keys.length
      })
      .catch(() => count('failed'))
      .finally(() => {
        inFlight.delete(block)
        progress.end()
      })
    inFlight.set(block, { run, progress })
    return progress
  }

  const tier: Tier = (plan, params) => {
    if (plan.anchor.kind !== 'block' || methodInfo(plan.method).replayRead !== true) return undefined
    const block = plan.anchor.number + 1
    let progress = inFlight.get(block)?.progress
    if (progress === undefined) {
      if (tried.has(block) || inFlight.size >= maxInFlight) return undefined
      if (!options.view().isFinal(block) || !options.interest.recent(block)) return undefined
      progress = start(block)
    }
    return settleWithin(progress.until(keysRead(plan, params)), options.waitMs).then(() =>
      lookAgain(options.cache, plan, params),
    )
  }

  return {
    tier,
    observe(call, resolved) {
      if (resolved.cache === 'HIT') {
        if (tracked.size > 0 && resolved.key !== undefined) counts.used += countUsed(tracked, call, resolved.key)
        return
      }
      const block = blockAskedFor(call, resolved)
      if (block !== undefined) options.interest.note(block)
    },
    stats: () => ({
      prefetches: { ...outcomes },
      keys_stored: counts.stored,
      keys_used: counts.used,
      useful_share: counts.stored === 0 ? '0.0%' : `${((counts.used / counts.stored) * 100).toFixed(1)}%`,
      in_flight: inFlight.size,
    }),
  }
}

/** How many prefetched keys a hit read: its own, or the parts a composed answer was made of (each counted once). */
function countUsed(tracked: Set<string>, call: RpcCall, key: string): number {
  if (tracked.delete(key)) return 1
  if (!isComposed(call.method)) return 0
  const plan = planCall(call.method, call.params)
  if (plan === undefined) return 0
  return partPlansOf(plan, call.params).filter((part) => tracked.delete(part.key)).length
}

/** The cache keys a read is answered from: its own, or its parts' for a composed answer (`eth_getAccountInfo`, `eth_getStorageValues`). */
function keysRead(plan: CachePlan, params: unknown): string[] {
  return isComposed(plan.method) ? partPlansOf(plan, params).map((part) => part.key) : [plan.key]
}

/** The prefetched answer, now in the cache (`eth_getAccountInfo` and `eth_getStorageValues` are composed of their parts). */
function lookAgain(cache: Cache, plan: CachePlan, params: unknown): string | undefined {
  return cache.lookup(plan) ?? composeFromParts(plan, params, cache.lookup)
}

/** The block an answer that went upstream names, when its method names one a client may replay. */
function blockAskedFor(call: RpcCall, resolved: Resolved): number | undefined {
  if (resolved.cache !== 'MISS' && resolved.cache !== 'BYPASS') return undefined
  const how = methodInfo(call.method).blockInterest
  if (how === undefined || resolved.outcome.resultJson === undefined) return undefined
  if (how === 'param') return Array.isArray(call.params) ? parseQuantity(call.params[0]) : undefined
  const result: unknown = JSON.parse(resolved.outcome.resultJson)
  if (result === null || typeof result !== 'object') return undefined
  const { blockNumber, number } = result as { blockNumber?: unknown; number?: unknown }
  return parseQuantity(blockNumber ?? number)
}

type BlockHeader = { transactions: unknown[]; blobGasUsed?: unknown }

/**
 * One block's prefetch: its prestates, read into the parent's state, stored account by account as
 * each is proven (every account at once when nothing is proven), `progress` told as they are.
 */
async function prefetchBlock(
  options: PrefetcherOptions,
  block: number,
  progress: PrefetchProgress,
): Promise<{ outcome: string; keys: string[] }> {
  // A history rewrite (dev chains) while the trace travels drops what it would store (SPEC §5.1).
  const epoch = options.cache.epoch
  const header = await headerOf(options, block)
  if (header === undefined) return { outcome: 'no-block', keys: [] }
  if (header.transactions.length === 0) return { outcome: 'empty-block', keys: [] }
  // EIP-6780 (Cancun, the fork that added blob gas): no transaction wipes a pre-existing contract's storage.
  const wipesStorage = header.blobGasUsed === undefined
  if (header.transactions.length > 1) void proveFirstTransactionEarly(options, block, header, wipesStorage)
  const traced = await prestatesOf(options, block, header)
  if (traced === undefined) return { outcome: 'no-source', keys: [] }
  let state: ParentState
  try {
    state = parentStateOf(traced.prestates(), { wipesStorage })
  } catch (error) {
    if (error instanceof MalformedPrestateError) return { outcome: `${traced.source}:malformed`, keys: [] }
    throw error
  }
  const parent = block - 1
  const parts = await Promise.all(
    partsOf(state, header.transactions.length, options.verifier !== undefined).map(async (part) => {
      const verdicts = await proveParentState(options, part, parent)
      const required = options.verifier?.mode === 'required' && verdicts !== undefined
      const { stored, settled } = store(options.cache, part, parent, epoch, verdicts, required)
      progress.settled(settled)
      return stored
    }),
  )
  return { outcome: `${traced.source}:stored`, keys: parts.flat() }
}

/**
 * The first part's proofs asked while the block's trace is still computed (SPEC §15, the first
 * run): the first transaction's own prestate trace is short, and its accounts and slots are what
 * the first part holds, so their proofs are asked at once and kept by the verifier, which hands
 * them to the first part when the block's trace is in (the same account and slots, the same
 * proof). Nothing is stored from this trace: the values stored are the block trace's, each
 * checked against its proof as always. A trace or proof that fails here costs nothing but its
 * request; the first part then asks its proofs itself.
 */
async function proveFirstTransactionEarly(
  options: PrefetcherOptions,
  block: number,
  header: BlockHeader,
  wipesStorage: boolean,
): Promise<void> {
  if (options.verifier === undefined) return
  const hash = transactionHashes(header)[0]
  try {
    const trace = await options.forward({
      jsonrpc: '2.0',
      id: 0,
      method: 'debug_traceTransaction',
      params: [hash, PRESTATE],
    })
    if (trace.resultJson === undefined) return
    const state = parentStateOf([JSON.parse(trace.resultJson)], { wipesStorage })
    await proveParentState(options, partsOf(state, 1, false)[0] ?? [], block - 1)
  } catch {
    // Only a head start: the first part asks again.
  }
}

/**
 * SPEC §15: one part of the parent state proven account by account before it is stored, its
 * proofs sent together (one upstream batch): each account's fields and the slots of this part.
 * Undefined without a verifier: stored as read, unproven.
 */
async function proveParentState(
  options: PrefetcherOptions,
  part: readonly PartAccount[],
  parent: number,
): Promise<Map<string, AccountVerdict> | undefined> {
  const verifier = options.verifier
  if (verifier === undefined) return undefined
  const accounts = part.map(({ address, account, slots }) => ({
    address,
    balance: account.balance,
    nonce: account.nonce,
    code: account.code,
    storage: new Map(slots.map((slot) => [slot, account.storage.get(slot) as string])),
  }))
  const batch = options.openBatch?.()
  const verdicts = await verifier.proveAccounts(accounts, parent, (call, check) =>
    options.forward(call, { check, batch, unsupportedFailsOver: true }),
  )
  if (verdicts === undefined) return undefined
  return new Map(accounts.map((account, index) => [account.address, verdicts[index] as AccountVerdict]))
}

/** Block B+1's header and transaction hashes: from the cache when a client's own call stored it, else asked. */
async function headerOf(options: PrefetcherOptions, block: number): Promise<BlockHeader | undefined> {
  const plan = planCall('eth_getBlockByNumber', [toQuantity(block), false]) as CachePlan
  const cached = options.cache.lookup(plan)
  const resultJson =
    cached ?? (await options.forward({ jsonrpc: '2.0', id: 0, method: plan.method, params: plan.params })).resultJson
  if (resultJson === undefined) return undefined
  const header: unknown = JSON.parse(resultJson)
  if (header === null || typeof header !== 'object' || !Array.isArray((header as BlockHeader).transactions))
    return undefined
  return header as BlockHeader
}

const PRESTATE = { tracer: 'prestateTracer' }

/** A block's transaction hashes, as its header lists them (hashes, or whole transactions). */
function transactionHashes(header: BlockHeader): unknown[] {
  return header.transactions.map((entry) => (typeof entry === 'string' ? entry : (entry as { hash?: unknown })?.hash))
}

/**
 * The prestates of a block's transactions, best source first (SPEC §14): the block's trace in one
 * call, else every transaction's trace in one batch. A source a provider lacks is remembered there
 * (its `-32601`) and costs no strike.
 */
async function prestatesOf(
  options: PrefetcherOptions,
  block: number,
  header: BlockHeader,
): Promise<{ source: string; prestates: () => unknown[] } | undefined> {
  const count = header.transactions.length
  const whole = await options.forward({
    jsonrpc: '2.0',
    id: 0,
    method: 'debug_traceBlockByNumber',
    params: [toQuantity(block), PRESTATE],
  })
  const blockTrace = whole.resultJson
  if (blockTrace !== undefined)
    return { source: 'block-trace', prestates: () => prestatesOfBlockTrace(JSON.parse(blockTrace), count) }
  const hashes = transactionHashes(header)
  const batch = options.openBatch?.()
  const traces = await Promise.all(
    hashes.map((hash) =>
      options.forward({ jsonrpc: '2.0', id: 0, method: 'debug_traceTransaction', params: [hash, PRESTATE] }, { batch }),
    ),
  )
  if (traces.some((trace) => trace.resultJson === undefined)) return undefined
  return {
    source: 'transaction-traces',
    prestates: () => traces.map((trace) => JSON.parse(trace.resultJson as string)),
  }
}

/**
 * Store a part of the parent state under the very keys a client's own calls use (SPEC §14):
 * balance, nonce, code and each slot at `parent`. Final, since the block after it is (the caller
 * checked). `stored`: the keys written; `settled`: every key of the part, written or not (a read
 * waiting on one of them goes on).
 */
function store(
  cache: Cache,
  part: readonly PartAccount[],
  parent: number,
  epoch: number,
  verdicts: Map<string, AccountVerdict> | undefined,
  required = false,
): { stored: string[]; settled: string[] } {
  const at = toQuantity(parent)
  const stored: string[] = []
  const settled: string[] = []
  for (const { address, account, fields, slots } of part) {
    const verdict = verdicts?.get(address)
    // An account whose values are not the proven ones is not stored; an unprovable one only when allowed.
    const keep = verdict !== 'failed' && !(verdict === 'none' && required)
    const proven = verdict === 'proof'
    const put = (method: string, params: unknown[], value: string) => {
      const plan = planCall(method, params) as CachePlan
      settled.push(plan.key)
      if (!keep) return
      cache.store(plan, JSON.stringify(value), epoch, proven)
      stored.push(plan.key)
    }
    if (fields) {
      put('eth_getBalance', [address, at], account.balance)
      put('eth_getTransactionCount', [address, at], account.nonce)
      put('eth_getCode', [address, at], account.code)
    }
    for (const slot of slots) put('eth_getStorageAt', [address, slot, at], account.storage.get(slot) as string)
  }
  return { stored, settled }
}
