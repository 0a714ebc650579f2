import { classifyRpcError } from '../providers/classify.ts'
import { parseQuantity, parseQuantityJson, toQuantity } from '../rpc/quantity.ts'
import type { Outcome, RpcCall } from '../rpc/types.ts'
import { type Every, every } from '../util/every.ts'

/** What the proxy knows of its chain now, read synchronously on the request path. */
export type ChainView = {
  /** The newest block a provider reported (-1 before the first answer). */
  readonly head: number
  /** The newest final block (-1 before the first answer): every block at or below it can never change. */
  readonly finalized: number
  /** Whether `block` is final; a block above the known finalized one is simply not final yet. */
  isFinal(block: number): boolean
  /**
   * Whether cached answers may be served now. Always on a real chain; on a development chain only
   * while its fingerprint was verified recently and no provider failed since (SPEC §6).
   */
  readonly trusted: boolean
}

export type HeadTrackerOptions = {
  /** One call upstream through failover, not counted as a client call. */
  send: (call: RpcCall) => Promise<Outcome>
  /**
   * The same call to up to two distinct healthy providers, one outcome each (SPEC §8: the finalized
   * block is never above what a second provider confirms, nor above a healthy provider's head).
   * @default send, once
   */
  askSeveral?: (call: RpcCall) => Promise<Outcome[]>
  /** Blocks below the head taken as final where the chain has no `finalized` tag. */
  finalityDepth: number
  /** A development chain: its fingerprint is checked, and its finality may move back. */
  devChain: boolean
  /** How often the view is refreshed while calls flow. @default 1000 */
  activeRefreshMs?: number
  /** How often it is refreshed when nobody calls. */
  idleRefreshMs: number
  /** The chain was found restarted or reset under the proxy: empty its cache (before serving from it again). */
  onReset: (reason: string) => void
  now?: () => number
}

/** The head tracker of one chain: a synchronous view, kept fresh in the background. */
export type HeadTracker = ChainView & {
  /** Ask head, finalized block and (dev chains) the fingerprint now; concurrent calls share one refresh. */
  refresh(): Promise<void>
  /** A call is flowing: keep the view fresh every `activeRefreshMs`. */
  touch(): void
  /** A provider reported its head (a health probe's `eth_blockNumber`). */
  observeHead(block: number): void
  /** A history rewrite passed through the proxy: forget finality and fingerprint, and learn them anew. */
  rebase(): void
  /** A provider failed to answer: on a development chain, verify the fingerprint before serving again. */
  suspect(): void
  start(): void
  stop(): void
}

type Fingerprint = { number: number; hash: string | undefined }
type BlockHeader = { number: number; hash: string | undefined }

const call = (method: string, params: unknown[]): RpcCall => ({ jsonrpc: '2.0', id: 0, method, params })

/**
 * Learns the head (`eth_blockNumber`) and the finalized block (the `finalized` tag, or the head
 * minus `finalityDepth` where the chain rejects the tag). On a development chain it also remembers
 * the hash of a block it saw (genesis first, then the finalized block) and asks for that block again
 * on each refresh: a different hash, or no block at all, means the node restarted or was reset,
 * and the chain's cache is emptied before the new view is adopted.
 */
export function createHeadTracker(options: HeadTrackerOptions): HeadTracker {
  const now = options.now ?? Date.now
  const activeRefreshMs = options.activeRefreshMs ?? 1_000
  const trustMs = activeRefreshMs * 2
  let head = -1
  let finalized = -1
  let tagSupported = true
  let fingerprint: Fingerprint = { number: 0, hash: undefined }
  let verifiedAtMs = Number.NEGATIVE_INFINITY
  let suspected = false
  /** Suspicions so far: a refresh that began before the latest one cannot clear it. */
  let suspicions = 0
  let generation = 0
  let active = false
  let refreshedAtMs = Number.NEGATIVE_INFINITY
  let refreshing: Promise<void> | undefined
  let timer: Every | undefined

  const adoptFinalized = (block: number, reset: boolean) => {
    if (block < 0) return
    // A real chain's finality only moves forward; a dev chain's may move back after a reset.
    if (reset || block > finalized) finalized = block
  }

  const checkFingerprint = (outcome: Outcome | undefined): 'same' | 'changed' | 'unknown' => {
    if (outcome?.resultJson === undefined) return 'unknown'
    const block = toHeader(outcome.resultJson)
    if (fingerprint.hash === undefined) {
      if (block?.hash === undefined) return 'unknown'
      fingerprint = block
      return 'same'
    }
    return block?.hash === fingerprint.hash ? 'same' : 'changed'
  }

  const askSeveral = options.askSeveral ?? (async (question: RpcCall) => [await options.send(question)])

  const ask = async () => {
    const started = generation
    const suspicionsAtStart = suspicions
    const [headOutcomes, finalizedOutcomes, fingerprintOutcome] = await Promise.all([
      askSeveral(call('eth_blockNumber', [])),
      tagSupported ? askSeveral(call('eth_getBlockByNumber', ['finalized', false])) : undefined,
      options.devChain
        ? options.send(call('eth_getBlockByNumber', [toQuantity(fingerprint.number), false]))
        : undefined,
    ])
    if (started !== generation) return
    // No provider answered one of them: nothing is learned, and nothing is verified.
    const unanswered = (outcome: Outcome | undefined) => outcome?.unavailable === true
    if (
      headOutcomes.every(unanswered) ||
      (finalizedOutcomes?.every(unanswered) ?? false) ||
      unanswered(fingerprintOutcome)
    )
      return
    let reset = false
    if (options.devChain) {
      const verdict = checkFingerprint(fingerprintOutcome)
      if (verdict === 'unknown') return
      if (verdict === 'changed') {
        reset = true
        generation++
        options.onReset(`block ${fingerprint.number} is no longer ${fingerprint.hash}`)
        fingerprint = { number: 0, hash: undefined }
        head = -1
        finalized = -1
      }
    }
    const heads = headOutcomes.flatMap((outcome) => {
      const number = outcome.resultJson === undefined ? undefined : parseQuantityJson(outcome.resultJson)
      return number === undefined ? [] : [number]
    })
    // The view's head is the newest any provider reported; finality never passes the slowest one's.
    const reportedHead = heads.length === 0 ? undefined : Math.max(...heads)
    const lowestHead = heads.length === headOutcomes.length && heads.length > 0 ? Math.min(...heads) : undefined
    if (reportedHead !== undefined) head = reset ? reportedHead : Math.max(head, reportedHead)
    const finalizedBlocks = (finalizedOutcomes ?? []).map((outcome) =>
      outcome.resultJson === undefined ? undefined : toHeader(outcome.resultJson),
    )
    // Only an answer every node would give (unknown method, invalid params) says the tag is unsupported;
    // "finalized block not found" from a node still syncing does not.
    if (
      finalizedOutcomes?.some((outcome) => outcome.error !== undefined && classifyRpcError(outcome.error) === 'answer')
    )
      tagSupported = false
    // Confirmed only when every provider asked named a finalized block: then the lowest of them, below every head seen.
    const confirmed =
      finalizedBlocks.length > 0 && finalizedBlocks.every((block) => block !== undefined)
        ? (finalizedBlocks as BlockHeader[])
        : undefined
    const finalizedBlock = confirmed?.reduce((low, block) => (block.number < low.number ? block : low))
    if (finalizedBlock !== undefined && lowestHead !== undefined)
      adoptFinalized(Math.min(finalizedBlock.number, lowestHead), reset)
    else if (!tagSupported && lowestHead !== undefined) adoptFinalized(lowestHead - options.finalityDepth, reset)
    if (options.devChain && !reset) {
      if (finalizedBlock?.hash !== undefined && finalizedBlock.number > fingerprint.number) fingerprint = finalizedBlock
      verifiedAtMs = now()
      if (suspicions === suspicionsAtStart) suspected = false
    }
  }

  const refresh = () => {
    if (refreshing !== undefined) return refreshing
    const promise: Promise<void> = ask()
      .catch(() => {})
      .finally(() => {
        refreshedAtMs = now()
        if (refreshing === promise) refreshing = undefined
      })
    refreshing = promise
    return promise
  }

  const tick = () => {
    if (!active && now() - refreshedAtMs < options.idleRefreshMs) return
    active = false
    void refresh()
  }

  return {
    get head() {
      return head
    },
    get finalized() {
      return finalized
    },
    isFinal: (block) => block <= finalized,
    get trusted() {
      return !options.devChain || (!suspected && now() - verifiedAtMs <= trustMs)
    },
    refresh,
    touch() {
      if (active) return
      active = true
      // The first call after a quiet spell refreshes at once rather than at the next tick.
      if (now() - refreshedAtMs > activeRefreshMs) void refresh()
    },
    observeHead(block) {
      if (block <= head) return
      head = block
      if (!tagSupported) adoptFinalized(block - options.finalityDepth, false)
    },
    rebase() {
      generation++
      refreshing = undefined
      finalized = -1
      fingerprint = { number: 0, hash: undefined }
      verifiedAtMs = Number.NEGATIVE_INFINITY
    },
    suspect() {
      if (!options.devChain) return
      suspected = true
      suspicions++
    },
    start() {
      timer ??= every(activeRefreshMs, tick)
    },
    stop() {
      timer?.stop()
      timer = undefined
    },
  }
}

/** The number and hash of a block answer, or undefined for null and anything malformed. */
function toHeader(resultJson: string): BlockHeader | undefined {
  let block: unknown
  try {
    block = JSON.parse(resultJson)
  } catch {
    return undefined
  }
  if (block === null || typeof block !== 'object') return undefined
  const { number, hash } = block as { number?: unknown; hash?: unknown }
  const parsed = parseQuantity(number)
  return parsed === undefined ? undefined : { number: parsed, hash: typeof hash === 'string' ? hash : undefined }
}
