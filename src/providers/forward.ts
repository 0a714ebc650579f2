import { type AnswerCheck, NOT_HERE } from '../rpc/answer-check.ts'
import {
  type AttemptReport,
  LimitExceededError,
  ProvidersUnavailableError,
  RPC_CODES,
  toErrorObject,
} from '../rpc/errors.ts'
import { historyNeedOf } from '../rpc/history-need.ts'
import { methodInfo } from '../rpc/methods.ts'
import { parseQuantityJson } from '../rpc/quantity.ts'
import { rawTransactionHash } from '../rpc/raw-transaction.ts'
import type { Outcome, RpcCall, RpcErrorObject } from '../rpc/types.ts'
import { redactText } from '../util/redact.ts'
import { QueueFullError } from './attempt-slots.ts'
import type { BreakerOptions } from './breaker.ts'
import { classifyRpcError } from './classify.ts'
import type { HistoryLearner } from './history-learner.ts'
import { p90 } from './latency.ts'
import { markSent, markUnjudged, type Provider, quarantine, recordFailure, recordSuccess } from './provider.ts'
import { meansAlreadySent } from './raw-transaction.ts'
import type { Candidate, ProviderSelector } from './select.ts'
import type { UnsupportedMethods } from './unsupported-methods.ts'
import { postToProvider, type UpstreamAnswer } from './upstream.ts'
import type { UpstreamBatch } from './upstream-batch.ts'
import { UpstreamError, UpstreamRpcFaultError } from './upstream-errors.ts'

export type ForwarderOptions = {
  providers: readonly Provider[]
  select: ProviderSelector
  breaker: BreakerOptions
  /** Longest one attempt may take (trace methods get `traceTimeoutFactor` times more). */
  timeoutMs: number
  /** Longest all attempts of one call may take together, as a multiple of the attempt timeout. */
  deadlineFactor: number
  traceTimeoutFactor: number
  /** Hedge delay bounds: a read unanswered after the provider's p90 (clamped) also goes to the next. */
  hedgeFloorMs: number
  hedgeCeilingMs: number
  /** The hedge delay while no provider has a latency sample yet (never the ceiling: a hung first choice would hold the first read 2 s). */
  hedgeUnmeasuredMs: number
  maxResponseBytes: number
  /** The chain the proxy serves, once known: a provider answering another `eth_chainId` is quarantined. */
  chainId: () => number | undefined
  onQuarantine: (provider: Provider, chainId: string) => void
  /** Observes every attempt: `ok`, `rpc-error` (an unknown error), or the failure kind. */
  onAttempt?: (provider: Provider, outcome: string, durationMs: number) => void
  onCircuitOpen?: (provider: Provider) => void
  /** Extension methods every provider said it lacks: answered at once with that error. */
  unsupported?: UnsupportedMethods
  /** How far back each provider holds history: historical calls go first to those that hold their block. */
  history?: HistoryLearner
  now?: () => number
}

/** Where answers are checked lives with the protocol; re-exported for the forwarder's callers. */

/** How one call is sent: as a notification (no answer awaited), checked against its question, within a client batch. */
export type ForwardOptions = {
  notification?: boolean
  /** Whether an answer answers the question (SPEC §8); a mismatch is a provider fault. */
  check?: AnswerCheck
  /** The client batch it belongs to: its attempts may travel in a JSON-RPC batch with that batch's others. */
  batch?: UpstreamBatch
  /** A provider that lacks the method (`-32601`) is not the answer: the others are asked (the proxy's own proofs). */
  unsupportedFailsOver?: boolean
}

/** Sends one call upstream with failover and returns its outcome; never throws. */
export type Forwarder = (call: RpcCall, options?: ForwardOptions) => Promise<Outcome>

/** How many distinct providers must give the same unknown error before it is the answer. */
const CONSENSUS = 3

type Settled =
  | { kind: 'answer'; outcome: Outcome }
  | { kind: 'unknown-error'; error: RpcErrorObject; provider: Provider }
  /** `again`: the provider may be asked once more, after the others (it refused for a rate limit). */
  | { kind: 'failed'; report: AttemptReport; again?: Candidate }

/**
 * The failover loop (SPEC §6), the one place upstream failures are caught. Providers are tried in
 * the selector's order, each at most once. An answer (a result, or a deterministic error such as a
 * revert) wins at once and aborts the rest; rate limits and provider faults move on; an unknown
 * error is the answer once three distinct providers (or all, when fewer) agree. A read still
 * unanswered after the provider's recent p90 latency is also sent to the next provider (hedging);
 * writes never are. Nothing here sleeps or probes: health is the background checker's job.
 */
export function createForwarder(options: ForwarderOptions): Forwarder {
  const now = options.now ?? Date.now
  let nextUpstreamId = 1
  const urls = options.providers.map((provider) => provider.url)
  /** SPEC §8: an upstream error that quotes a provider's URL reaches the client redacted. */
  const quoted = urls.map((url) => url.replace(/\/+$/, '')).filter((url) => url !== '')
  const redacted = (error: RpcErrorObject): RpcErrorObject =>
    quoted.some((url) => error.message.includes(url)) ? { ...error, message: redactText(error.message, urls) } : error

  /** A full queue: the provider is busy, which is neither its failure nor a strike. */
  const busy = (provider: Provider, error: QueueFullError): Settled => {
    options.onAttempt?.(provider, 'busy', 0)
    return { kind: 'failed', report: { provider: provider.label, failure: 'busy', message: error.message } }
  }

  const hedgeDelayMs = (provider: Provider) => {
    const recent = p90(provider.latency) ?? pooledP90(options.providers) ?? options.hedgeUnmeasuredMs
    return Math.min(options.hedgeCeilingMs, Math.max(options.hedgeFloorMs, recent))
  }

  return async (call, { notification = false, check, batch: upstreamBatch, unsupportedFailsOver = false } = {}) => {
    if (options.providers.length === 0) {
      return unavailable('No upstream providers configured (cache-only mode) and the answer is not cached', [])
    }
    const lacking = options.unsupported?.known(call.method, options.providers)
    if (lacking !== undefined) return { error: lacking }
    const selected = withRoomFirst(options.select(options.providers, now()))
    const supported = options.unsupported?.othersFirst(call.method, selected) ?? selected
    // One provider: nothing to route by depth, and no reading of the call's block on the usual path.
    const need = options.history === undefined || options.providers.length < 2 ? undefined : historyNeedOf(call)
    const candidates = need === undefined ? supported : (options.history as HistoryLearner).order(need, supported)
    const { kind } = methodInfo(call.method)
    const trace = kind === 'trace'
    const attemptTimeoutMs = options.timeoutMs * (trace ? options.traceTimeoutFactor : 1)
    const callStartedAt = now()
    let queuedMs = 0
    const deadline = () => callStartedAt + queuedMs + attemptTimeoutMs * options.deadlineFactor
    const hedging = !notification && kind === 'read'
    const rawHash =
      call.method === 'eth_sendRawTransaction' && Array.isArray(call.params)
        ? rawTransactionHash(call.params[0])
        : undefined
    const upstreamId = nextUpstreamId++
    const body = JSON.stringify(
      notification
        ? { jsonrpc: '2.0', method: call.method, params: call.params }
        : { jsonrpc: '2.0', id: upstreamId, method: call.method, params: call.params },
    )
    // A notification gets no answer to match inside a batch: it always goes on its own.
    const batch = notification ? undefined : upstreamBatch
    const consensus = Math.min(CONSENSUS, candidates.length)
    const controllers = new Set<AbortController>()
    const attempts: AttemptReport[] = []
    const unknownErrors = new Map<string, { error: RpcErrorObject; count: number }>()
    let transportFailed = false
    /** Answers whose check is still running (waiting for a proof): an answer is in, so no hedge meanwhile. */
    let checking = 0
    /** Providers asked once more after a rate limit (made only when one says so: most calls never do). */
    let askedAgain: Set<Provider> | undefined

    const attempt = async ({ provider, trial }: Candidate): Promise<Settled> => {
      const controller = new AbortController()
      controllers.add(controller)
      try {
        // A batched attempt's slot is its batch's, taken when the batch goes.
        if (batch?.accepts(provider)) return await send(provider, trial, controller, batch)
        const slot = provider.slots.acquire(controller.signal)
        if (slot !== true) {
          const queuedAt = now()
          try {
            await slot
          } catch (error) {
            return error instanceof QueueFullError ? busy(provider, error) : cancelled(provider)
          }
          // Time spent waiting for a slot is the proxy's, not the provider's (SPEC §6): it moves the deadline.
          queuedMs = Math.max(queuedMs, now() - queuedAt)
        }
        try {
          return await send(provider, trial, controller)
        } finally {
          provider.slots.release()
        }
      } finally {
        controllers.delete(controller)
      }
    }

    /** One attempt, holding a slot (or handed to a batch, which takes one): its timer starts once it is sent. */
    const send = async (
      provider: Provider,
      trial: boolean,
      controller: AbortController,
      batch?: UpstreamBatch,
    ): Promise<Settled> => {
      markSent(provider, now(), trial)
      let startedAt = now()
      try {
        const attemptOptions = {
          timeoutMs: Math.max(1, Math.min(attemptTimeoutMs, deadline() - now())),
          maxResponseBytes: options.maxResponseBytes,
          controller,
          notification,
          // A call waits for its provider's budget on its own clock (SPEC §6): at most until its deadline.
          maxBudgetWaitMs: Math.max(0, deadline() - now()),
          onSent: () => {
            // Waiting for a batch's slot or the budget's moment is the proxy's time, not the provider's latency.
            queuedMs = Math.max(queuedMs, now() - startedAt)
            startedAt = now()
          },
        }
        const answer = await (batch === undefined
          ? postToProvider(provider, body, attemptOptions)
          : batch.post(provider, body, upstreamId, attemptOptions))
        const answeredMs = now() - startedAt
        const judged = judge(provider, answer)
        // A check that takes time (a state answer waiting for its proof) is awaited within the attempt,
        // but it is not the provider's latency, and no hedge goes out while an answer is being checked.
        let settled: Settled
        if (judged instanceof Promise) {
          checking += 1
          try {
            settled = await judged
          } finally {
            checking -= 1
          }
        } else settled = judged
        if (settled.kind !== 'failed') recordSuccess(provider, answeredMs, options.breaker)
        options.onAttempt?.(provider, settled.kind === 'unknown-error' ? 'rpc-error' : 'ok', answeredMs)
        return settled
      } catch (error) {
        if (error instanceof QueueFullError) {
          markUnjudged(provider)
          return busy(provider, error)
        }
        if (controller.signal.aborted && !(error instanceof UpstreamError && error.kind === 'timeout')) {
          markUnjudged(provider)
          return cancelled(provider)
        }
        if (!(error instanceof UpstreamError)) throw error
        options.onAttempt?.(provider, error.kind, now() - startedAt)
        const report = { provider: error.provider, failure: error.kind, message: error.message }
        // A rate limit is never a strike (SPEC §6): the budget learned from it, and the call may come back once, paced.
        if (error.kind === 'rate-limited') {
          markUnjudged(provider)
          return { kind: 'failed', report, again: { provider, trial: false } }
        }
        if (recordFailure(provider, options.breaker, now())) options.onCircuitOpen?.(provider)
        transportFailed ||= error.kind !== 'provider-fault'
        return { kind: 'failed', report }
      }
    }

    /** A result that passed (or failed) its check: the answer, "not here", or a provider fault (thrown). */
    const checked = (
      provider: Provider,
      answer: { resultJson: string },
      mismatch: string | typeof NOT_HERE | undefined,
    ): Settled => {
      if (mismatch === NOT_HERE) return { kind: 'unknown-error', error: NOT_FOUND_HERE, provider }
      if (mismatch !== undefined) {
        throw new UpstreamRpcFaultError(provider.label, 'provider-fault', {
          code: 0,
          message: `the answer does not match the question: ${mismatch}`,
        })
      }
      options.unsupported?.observe(provider, call.method, undefined)
      if (need !== undefined) options.history?.observe(provider, need, 'held')
      return { kind: 'answer', outcome: { resultJson: answer.resultJson, provider: provider.label } }
    }

    const judge = (provider: Provider, answer: UpstreamAnswer): Settled | Promise<Settled> => {
      if (answer.kind === 'empty') return { kind: 'answer', outcome: { resultJson: 'null' } }
      if (answer.kind === 'result') {
        if (call.method === 'eth_chainId' && isOtherChain(answer.resultJson, options.chainId())) {
          quarantine(provider)
          options.onQuarantine(provider, answer.resultJson)
          throw new UpstreamRpcFaultError(provider.label, 'provider-fault', {
            code: 0,
            message: `answered chain ${answer.resultJson}`,
          })
        }
        const mismatch = check?.(answer.value)
        if (mismatch instanceof Promise) return mismatch.then((found) => checked(provider, answer, found))
        return checked(provider, answer, mismatch)
      }
      // A raw transaction another attempt may already have delivered is sent, whatever this node says.
      if (rawHash !== undefined && transportFailed && meansAlreadySent(answer.error)) {
        return { kind: 'answer', outcome: { resultJson: JSON.stringify(rawHash), provider: provider.label } }
      }
      const error = redacted(answer.error)
      const verdict = classifyRpcError(error)
      if (verdict === 'answer') {
        options.unsupported?.observe(provider, call.method, error)
        // The proxy's own call any provider may serve (a proof): one lacking it is not the answer.
        if (unsupportedFailsOver && error.code === RPC_CODES.methodNotFound)
          return { kind: 'unknown-error', error, provider }
        return { kind: 'answer', outcome: { error, provider: provider.label } }
      }
      // "Behind or pruned" is tried elsewhere like an unknown error, and like it is never a strike (SPEC §6).
      if (verdict === 'behind' && need !== undefined) options.history?.observe(provider, need, error)
      if (verdict === 'unknown' || verdict === 'behind') return { kind: 'unknown-error', error, provider }
      throw new UpstreamRpcFaultError(provider.label, verdict, error)
    }

    try {
      const running = new Map<number, Promise<Settled & { index: number }>>()
      let next = 0
      const launch = () => {
        const index = next++
        const candidate = candidates[index] as Candidate
        // Settled objects are made fresh per attempt: tagging one in place saves a copy per call.
        running.set(
          index,
          attempt(candidate).then((settled) => Object.assign(settled, { index })),
        )
        return candidate
      }
      let hedgeFor = launch()
      while (running.size > 0) {
        const canHedge = hedging && next < candidates.length
        const hedgeTimer = canHedge ? delay(hedgeDelayMs(hedgeFor.provider)) : undefined
        // The common case, one attempt and nothing to hedge, waits on it alone (no race, no arrays).
        const settled =
          hedgeTimer === undefined && running.size === 1
            ? await (running.values().next().value as Promise<Settled & { index: number }>)
            : await Promise.race([...running.values(), ...(hedgeTimer ? [hedgeTimer.promise] : [])])
        hedgeTimer?.cancel()
        if (settled === HEDGE) {
          if (now() < deadline() && checking === 0) hedgeFor = launch()
          continue
        }
        running.delete(settled.index)
        if (settled.kind === 'answer') return settled.outcome
        if (settled.kind === 'unknown-error') {
          const signature = `${settled.error.code}:${settled.error.message}`
          const seen = unknownErrors.get(signature) ?? { error: settled.error, count: 0 }
          seen.count += 1
          unknownErrors.set(signature, seen)
          attempts.push({
            provider: settled.provider.label,
            failure: 'rpc-error',
            message: `${settled.error.code}: ${settled.error.message}`,
          })
          if (seen.count >= consensus) return { error: seen.error, provider: settled.provider.label }
        } else {
          attempts.push(settled.report)
          if (settled.again !== undefined && !askedAgain?.has(settled.again.provider) && !notification) {
            askedAgain ??= new Set()
            askedAgain.add(settled.again.provider)
            candidates.push(settled.again)
          }
        }
        if (running.size === 0 && next < candidates.length && now() < deadline()) hedgeFor = launch()
      }
    } finally {
      for (const controller of controllers) controller.abort()
    }
    const common = [...unknownErrors.values()].sort((a, b) => b.count - a.count)[0]
    if (common !== undefined) return { error: common.error }
    if (
      attempts.length > 0 &&
      attempts.every((report) => report.failure === 'busy' || report.failure === 'rate-limited')
    ) {
      return {
        error: toErrorObject(
          new LimitExceededError(
            'Upstream busy: every provider is rate limited, out of budget, or has its slots in use and its queue full; retry shortly',
            { attempts },
          ),
        ),
      }
    }
    return unavailable(`All ${attempts.length} upstream attempts failed`, attempts)
  }
}

const cancelled = (provider: Provider): Settled => ({
  kind: 'failed',
  report: { provider: provider.label, failure: 'cancelled', message: 'another provider answered first' },
})

/** A provider whose slots are all taken is tried after those with room, in the selector's order otherwise. */
function withRoomFirst(candidates: Candidate[]): Candidate[] {
  if (candidates.every(hasRoom)) return candidates
  return [...candidates.filter(hasRoom), ...candidates.filter((candidate) => !hasRoom(candidate))]
}

/** A free slot and room in its budget now (SPEC §6: a provider with room is preferred to waiting). */
const hasRoom = ({ provider }: Candidate) => provider.slots.hasRoom && provider.budget.waitFor(1) === 0

const NOT_FOUND_HERE: RpcErrorObject = {
  code: RPC_CODES.resourceNotFound,
  message: 'not found on this provider (it may be behind)',
}

const HEDGE = Symbol('hedge')

function delay(ms: number): { promise: Promise<typeof HEDGE>; cancel(): void } {
  let timer: ReturnType<typeof setTimeout> | undefined
  const promise = new Promise<typeof HEDGE>((resolve) => {
    timer = setTimeout(() => resolve(HEDGE), ms)
  })
  return { promise, cancel: () => clearTimeout(timer) }
}

function pooledP90(providers: readonly Provider[]): number | undefined {
  const values = providers.map((provider) => p90(provider.latency)).filter((value) => value !== undefined)
  return values.length === 0 ? undefined : Math.min(...values)
}

/** SPEC §6: chain ids are compared as numbers (`"0x01"` is chain 1); an unreadable answer is another chain too. */
function isOtherChain(resultJson: string, expected: number | undefined): boolean {
  return expected !== undefined && parseQuantityJson(resultJson) !== expected
}

function unavailable(message: string, attempts: AttemptReport[]): Outcome {
  return { error: toErrorObject(new ProvidersUnavailableError(message, attempts)), unavailable: true }
}
