import type { HistoryNeed } from '../rpc/history-need.ts'
import { parseQuantityJson, toQuantity } from '../rpc/quantity.ts'
import type { RpcErrorObject } from '../rpc/types.ts'
import { classifyRpcError } from './classify.ts'
import { HISTORY_KNOWN_FOR_MS, holds, learnCapabilities, learnHeld, learnMissing } from './history.ts'
import type { Provider } from './provider.ts'
import { postToProvider } from './upstream.ts'

/**
 * What the proxy learns of each provider's history depth (SPEC §6), and how calls use it. It asks
 * `eth_capabilities` at detection and again once what it said expires; it learns from the answers of
 * historical calls; and after a "pruned" answer for state from a provider that does not describe
 * itself, a few background probes (a binary search with `eth_getBalance`) find where its state
 * begins. Nothing here runs on a call's path but `order` and `observe`, which only read and write.
 */
export type HistoryLearner = {
  /** `candidates` with the providers known not to hold `need` moved last (the others keep the selector's order). */
  order<T extends { provider: Provider }>(need: HistoryNeed, candidates: T[]): T[]
  /** What an attempt's answer taught: it held the block (an answer), or said it no longer does. */
  observe(provider: Provider, need: HistoryNeed, answer: 'held' | RpcErrorObject): void
  /** Ask every provider `eth_capabilities` (bounded by the timeout; never throws). */
  askCapabilities(): Promise<void>
  /** Probes run so far (for tests and the monitor). */
  readonly probes: number
  /** Stop re-asking. */
  stop(): void
}

/** The most probes one search sends: a window of a million blocks is found to within 250. */
const MAX_PROBES = 12
const ZERO_ADDRESS = '0x0000000000000000000000000000000000000000'
/**
 * An error that says "no longer held here": what teaches a depth. "header not found" is not one: a
 * node behind the head says it of the newest blocks, and would be taken for one that holds nothing.
 */
const PRUNED = /missing trie node|pruned|historical state|state (is )?not available/i

export function createHistoryLearner({
  providers,
  timeoutMs,
  now = Date.now,
}: {
  providers: readonly Provider[]
  timeoutMs: number
  now?: () => number
}): HistoryLearner {
  const searching = new Set<Provider>()
  const searchedAt = new Map<Provider, number>()
  let probes = 0
  let stopped = false
  let reask: ReturnType<typeof setTimeout> | undefined
  let nextId = 1

  const post = async (provider: Provider, method: string, params: unknown[]) => {
    const body = JSON.stringify({ jsonrpc: '2.0', id: nextId++, method, params })
    return postToProvider(provider, body, { timeoutMs, maxResponseBytes: 64 * 1024 })
  }

  const askOne = async (provider: Provider) => {
    try {
      const answer = await post(provider, 'eth_capabilities', [])
      if (answer.kind === 'result') {
        if (!learnCapabilities(provider.history, answer.value, now())) provider.history.capabilities = 'not-served'
      } else if (answer.kind === 'error') provider.history.capabilities = 'not-served'
    } catch {
      // Unanswered: asked again with the rest.
    }
  }

  /** Binary search for the lowest block whose state it holds, between what it said is missing and its head. */
  const searchState = async (provider: Provider) => {
    searching.add(provider)
    searchedAt.set(provider, now())
    try {
      const headAnswer = await post(provider, 'eth_blockNumber', [])
      const head = headAnswer.kind === 'result' ? parseQuantityJson(headAnswer.resultJson) : undefined
      if (head === undefined) return
      provider.history.head = Math.max(provider.history.head ?? 0, head)
      let low = (provider.history.kinds.get('state')?.missingUpTo ?? -1) + 1
      let high = Math.min(head, provider.history.kinds.get('state')?.oldest ?? head)
      for (let sent = 0; sent < MAX_PROBES && low < high && !stopped; sent++) {
        const middle = Math.floor((low + high) / 2)
        probes += 1
        const answer = await post(provider, 'eth_getBalance', [ZERO_ADDRESS, toQuantity(middle)])
        const need: HistoryNeed = { kind: 'state', block: middle }
        if (answer.kind === 'result') {
          learnHeld(provider.history, need, now(), 'probes')
          high = middle
        } else if (answer.kind === 'error' && meansPruned(answer.error)) {
          learnMissing(provider.history, need, now(), 'probes')
          low = middle + 1
        } else return
      }
    } catch {
      // A probe that fails ends the search; what it learned stays.
    } finally {
      searching.delete(provider)
    }
  }

  const reaskLater = () => {
    if (stopped) return
    reask = setTimeout(() => void learner.askCapabilities(), HISTORY_KNOWN_FOR_MS)
    ;(reask as { unref?: () => void }).unref?.()
  }

  const learner: HistoryLearner = {
    order(need, candidates) {
      if (candidates.length < 2) return candidates
      const at = now()
      // Only "known not to hold" reorders: among the rest the selector's order (latency, room, budget) stands.
      const lacking = candidates.filter((candidate) => holds(candidate.provider.history, need, at) === 'no')
      if (lacking.length === 0 || lacking.length === candidates.length) return candidates
      return [...candidates.filter((candidate) => !lacking.includes(candidate)), ...lacking]
    },
    observe(provider, need, answer) {
      const at = now()
      if (answer === 'held') {
        learnHeld(provider.history, need, at, 'answers')
        return
      }
      if (!meansPruned(answer)) return
      learnMissing(provider.history, need, at, 'answers')
      const searched = searchedAt.get(provider)
      const fresh = searched !== undefined && at - searched < HISTORY_KNOWN_FOR_MS
      if (need.kind === 'state' && provider.history.capabilities !== 'served' && !searching.has(provider) && !fresh)
        void searchState(provider)
    },
    async askCapabilities() {
      clearTimeout(reask)
      await Promise.all(providers.map(askOne))
      reaskLater()
    },
    get probes() {
      return probes
    },
    stop() {
      stopped = true
      clearTimeout(reask)
    },
  }
  return learner
}

/** Whether an error says the block is no longer held (as opposed to a revert, or a node merely behind the head). */
function meansPruned(error: RpcErrorObject): boolean {
  return classifyRpcError(error) === 'behind' && PRUNED.test(error.message)
}
