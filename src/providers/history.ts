import type { HistoryNeed } from '../rpc/history-need.ts'
import type { HistoryKind } from '../rpc/methods.ts'
import { parseQuantity } from '../rpc/quantity.ts'

/** What one provider is known to hold of one kind of history, and until when that knowledge holds. */
export type KindDepth = {
  /** The lowest block it answered or said it holds; undefined: not known. */
  oldest?: number
  /** The highest block it said it no longer holds (pruned); undefined: none known. */
  missingUpTo?: number
  /** A rolling window (`eth_capabilities`' `deleteStrategy`): it holds this many blocks below its head. */
  retention?: number
  /** It keeps none of this kind (`eth_capabilities`' `disabled`). */
  disabled?: boolean
  /** Where it was learned. */
  source: 'capabilities' | 'answers' | 'probes'
  untilMs: number
}

/**
 * How far back one provider holds each kind of history (SPEC §6): from `eth_capabilities` where it
 * serves it, else from its answers ("missing trie node" and the like, or an answer at a block) and
 * background probes. Everything learned expires: nodes prune as they go.
 */
export type ProviderHistory = {
  /** Whether it serves `eth_capabilities`: unknown until asked. */
  capabilities: 'unknown' | 'served' | 'not-served'
  readonly kinds: Map<HistoryKind, KindDepth>
  /** Its head as last seen (a window's lower edge moves with it). */
  head: number | undefined
}

/** How long anything learned of a provider's history is believed. */
export const HISTORY_KNOWN_FOR_MS = 10 * 60_000

export function createProviderHistory(): ProviderHistory {
  return { capabilities: 'unknown', kinds: new Map(), head: undefined }
}

/** Whether the provider holds `need`: `yes` (known), `no` (known pruned or disabled), or `unknown`. */
export function holds(history: ProviderHistory, need: HistoryNeed, nowMs: number): 'yes' | 'no' | 'unknown' {
  // A trace replays state: without knowledge of traces themselves, the state's depth answers.
  const depth = live(history, need.kind, nowMs) ?? (need.kind === 'traces' ? live(history, 'state', nowMs) : undefined)
  if (depth === undefined) return 'unknown'
  if (depth.disabled === true) return 'no'
  const oldest = oldestOf(depth, history.head)
  if (oldest !== undefined && need.block >= oldest) return 'yes'
  const missingUpTo = depth.retention !== undefined && oldest !== undefined ? oldest - 1 : depth.missingUpTo
  if (missingUpTo !== undefined && need.block <= missingUpTo) return 'no'
  return 'unknown'
}

/** It answered a call at `need.block`: it holds that block (and, for a pruned node, everything above it). */
export function learnHeld(history: ProviderHistory, need: HistoryNeed, nowMs: number, source: KindDepth['source']) {
  const depth = entry(history, need.kind, nowMs, source)
  if (depth.disabled === true || depth.retention !== undefined) return
  depth.oldest = Math.min(depth.oldest ?? need.block, need.block)
  if (depth.missingUpTo !== undefined && depth.missingUpTo >= need.block)
    depth.missingUpTo = need.block > 0 ? need.block - 1 : undefined
}

/** It said it no longer holds `need.block` ("missing trie node", "pruned"): nor anything below it. */
export function learnMissing(history: ProviderHistory, need: HistoryNeed, nowMs: number, source: KindDepth['source']) {
  const depth = entry(history, need.kind, nowMs, source)
  if (depth.disabled === true || depth.retention !== undefined) return
  depth.missingUpTo = Math.max(depth.missingUpTo ?? need.block, need.block)
  if (depth.oldest !== undefined && depth.oldest <= need.block) depth.oldest = undefined
}

/** `eth_capabilities`' resources, by the kind of history each is. */
const RESOURCES: [resource: string, kind: HistoryKind][] = [
  ['state', 'state'],
  ['stateproofs', 'proofs'],
  ['logs', 'logs'],
  ['receipts', 'receipts'],
  ['blocks', 'blocks'],
]

/**
 * Learn from an `eth_capabilities` answer (execution-apis: per resource `disabled`, `oldestBlock`,
 * and `deleteStrategy: {type: "window", retentionBlocks}`). A resource that says neither (a node
 * pruning in bursts) teaches nothing: answers and probes will. Returns whether the answer was read.
 */
export function learnCapabilities(history: ProviderHistory, answer: unknown, nowMs: number): boolean {
  if (answer === null || typeof answer !== 'object') return false
  const result = answer as Record<string, unknown>
  const head = parseQuantity((result.head as { number?: unknown } | undefined)?.number)
  if (head !== undefined) history.head = Math.max(history.head ?? 0, head)
  let read = false
  for (const [resource, kind] of RESOURCES) {
    const described = result[resource] as
      | { disabled?: unknown; oldestBlock?: unknown; deleteStrategy?: { type?: unknown; retentionBlocks?: unknown } }
      | undefined
    if (described === null || typeof described !== 'object') continue
    read = true
    const untilMs = nowMs + HISTORY_KNOWN_FOR_MS
    if (described.disabled === true) {
      history.kinds.set(kind, { disabled: true, source: 'capabilities', untilMs })
      continue
    }
    const oldest = parseQuantity(described.oldestBlock)
    const strategy = described.deleteStrategy
    const retention =
      strategy?.type === 'window' && typeof strategy.retentionBlocks === 'number' && strategy.retentionBlocks > 0
        ? strategy.retentionBlocks
        : undefined
    if (oldest === undefined && retention === undefined) {
      history.kinds.delete(kind)
      continue
    }
    const depth: KindDepth = { oldest, source: 'capabilities', untilMs }
    if (oldest !== undefined && oldest > 0) depth.missingUpTo = oldest - 1
    if (retention !== undefined) depth.retention = retention
    history.kinds.set(kind, depth)
  }
  if (read) history.capabilities = 'served'
  return read
}

/** What `edb_providers` shows of a provider's history: per kind, the oldest block held and what is known missing. */
export function historyView(history: ProviderHistory, nowMs: number) {
  const kinds: Record<
    string,
    { oldest_block: number | null; missing_up_to: number | null; source: string } | 'disabled'
  > = {}
  for (const [kind] of history.kinds) {
    const depth = live(history, kind, nowMs)
    if (depth === undefined) continue
    if (depth.disabled === true) kinds[kind] = 'disabled'
    else {
      const oldest = oldestOf(depth, history.head)
      const missingUpTo = depth.retention !== undefined && oldest !== undefined ? oldest - 1 : depth.missingUpTo
      kinds[kind] = { oldest_block: oldest ?? null, missing_up_to: missingUpTo ?? null, source: depth.source }
    }
  }
  return { capabilities: history.capabilities, ...kinds }
}

/** The lowest block held: the recorded one, or for a rolling window the head less the window. */
function oldestOf(depth: KindDepth, head: number | undefined): number | undefined {
  if (depth.retention === undefined || head === undefined) return depth.oldest
  return Math.max(depth.oldest ?? 0, head - depth.retention + 1)
}

function live(history: ProviderHistory, kind: HistoryKind, nowMs: number): KindDepth | undefined {
  const depth = history.kinds.get(kind)
  if (depth === undefined || depth.untilMs > nowMs) return depth
  history.kinds.delete(kind)
  return undefined
}

/** The kind's entry, made or refreshed for what is being learned now (capabilities are replaced by answers only once expired). */
function entry(history: ProviderHistory, kind: HistoryKind, nowMs: number, source: KindDepth['source']): KindDepth {
  const depth = live(history, kind, nowMs)
  if (depth !== undefined) {
    if (depth.source !== 'capabilities') {
      depth.untilMs = nowMs + HISTORY_KNOWN_FOR_MS
      depth.source = source === 'probes' || depth.source === 'probes' ? 'probes' : 'answers'
    }
    return depth
  }
  const made: KindDepth = { source, untilMs: nowMs + HISTORY_KNOWN_FOR_MS }
  history.kinds.set(kind, made)
  return made
}
