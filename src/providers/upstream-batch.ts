import { QueueFullError } from './attempt-slots.ts'
import { classifyRpcError } from './classify.ts'
import { paced } from './pacing.ts'
import { countBatch, learnBatchBytes, type Provider, refuseBatches } from './provider.ts'
import {
  type AttemptOptions,
  answerOf,
  HEADERS,
  isErrorObject,
  noteAnswer,
  noteRateLimit,
  postToProvider,
  readResponseCapped,
  type UpstreamAnswer,
} from './upstream.ts'
import {
  isConnectionReset,
  UpstreamBodyTooLargeError,
  UpstreamError,
  UpstreamInvalidBodyError,
  UpstreamNetworkError,
  UpstreamRpcFaultError,
  UpstreamStatusError,
  UpstreamTimeoutError,
} from './upstream-errors.ts'

/** One batched attempt: an attempt's options, and when it leaves (its timer starts then, not while it waits to be sent). */
export type BatchedAttemptOptions = AttemptOptions & { controller: AbortController }

/**
 * The upstream side of one client batch (SPEC §6): the calls it sends in one turn of the event
 * loop are gathered per provider and posted as JSON-RPC batches of at most `size` calls, each
 * batch holding one attempt slot. Every call keeps its own answer, timer and abort: failover,
 * classification and the cache decision stay per call.
 */
export type UpstreamBatch = {
  /** Whether calls to this provider go in batches now (no: it refused one lately). */
  accepts(provider: Provider): boolean
  /** Post one call's body (with its numeric `id`) with the others bound for the same provider; its own answer. */
  post(provider: Provider, body: string, id: number, options: BatchedAttemptOptions): Promise<UpstreamAnswer>
}

export type UpstreamBatchingOptions = {
  /** Most calls in one upstream batch (2 or more). */
  size: number
  /** Most request bytes in one upstream batch; a call larger on its own goes alone. */
  maxBytes: number
  maxResponseBytes: number
  /** A provider refused a batch: its calls go one by one for a while. */
  onRefused?: (provider: Provider, reason: string) => void
  /** A provider refused a batch of `bytes` as too large: its batches stay within `maxBytes` for a while. */
  onTooLarge?: (provider: Provider, bytes: number, maxBytes: number) => void
  now?: () => number
}

/** How long a provider that refused a batch gets single calls only (or smaller batches), before batches are tried again. */
export const BATCH_REFUSAL_REST_MS = 10 * 60_000

/** The learned byte bound never goes below this: a provider resetting everything must not leave batches tiny for long. */
const MIN_LEARNED_BATCH_BYTES = 16 * 1024

/** Opens the upstream side of one client batch. */
export type UpstreamBatching = { open(): UpstreamBatch }

/** Makes one `UpstreamBatch` per client batch; the refusals it learns are kept on the providers. */
export function createUpstreamBatching(options: UpstreamBatchingOptions): UpstreamBatching {
  const now = options.now ?? Date.now
  const accepts = (provider: Provider) => now() >= provider.batchesRefusedUntilMs

  const refuse = (provider: Provider, reason: string) => {
    if (!accepts(provider)) return
    refuseBatches(provider, now() + BATCH_REFUSAL_REST_MS)
    options.onRefused?.(provider, reason)
  }

  /** The most bytes a batch to this provider may carry now: the option, or less once it refused more. */
  const maxBytesFor = (provider: Provider) => {
    const learned = provider.batchBytesLearned
    return learned !== undefined && now() < learned.untilMs
      ? Math.min(options.maxBytes, learned.maxBytes)
      : options.maxBytes
  }

  /** A batch of `bytes` was refused as too large: later batches to this provider stay within half of it, for a while. */
  const learnTooLarge = (provider: Provider, bytes: number) => {
    const maxBytes = Math.max(MIN_LEARNED_BATCH_BYTES, Math.floor(bytes / 2))
    if (maxBytes >= maxBytesFor(provider)) return
    learnBatchBytes(provider, maxBytes, now() + BATCH_REFUSAL_REST_MS)
    options.onTooLarge?.(provider, bytes, maxBytes)
  }

  /** Sends calls bound for one provider: in batches within its bounds, a call that fits with no other alone. */
  const dispatch = (provider: Provider, entries: Entry[]) => {
    for (const run of chunk(entries, options.size, maxBytesFor(provider))) {
      if (run.length === 1 || !accepts(provider)) for (const entry of run) void postAlone(provider, entry)
      else void postBatch(provider, run)
    }
  }

  /** One call on its own, in its own slot: a batch of one, or a call its provider's batch did not answer. */
  const postAlone = async (provider: Provider, entry: Entry) => {
    if (!(await takeSlot(provider, [entry]))) return
    try {
      // From here the single post owns the call's timer and abort (a timeout must read as a timeout).
      const timeoutMs = entry.handOver()
      if (timeoutMs === undefined) return
      // The entry said it was sent (its budget wait included, at hand-over): the single post must not say it again.
      entry.settle(await postToProvider(provider, entry.body, { ...entry.options, timeoutMs, onSent: undefined }))
    } catch (error) {
      entry.fail(error)
    } finally {
      provider.slots.release()
    }
  }

  /** Waits for a slot for these calls; false (each told why) when the queue was full or every call gave up meanwhile. */
  const takeSlot = async (provider: Provider, entries: Entry[]): Promise<boolean> => {
    const slot = provider.slots.acquire()
    if (slot === true) return true
    try {
      await slot
    } catch (error) {
      for (const entry of entries)
        entry.fail(error instanceof QueueFullError ? error : new UpstreamNetworkError(provider.label, error))
      return false
    }
    if (entries.some((entry) => !entry.done)) return true
    provider.slots.release()
    return false
  }

  const postBatch = async (provider: Provider, entries: Entry[]) => {
    if (!(await takeSlot(provider, entries))) return
    const live = entries.filter((entry) => !entry.done)
    const controller = new AbortController()
    const onSettled = () => {
      if (live.every((entry) => entry.done)) controller.abort()
    }
    let alone: Entry[] = []
    let tooLarge = false
    const body = `[${live.map((entry) => entry.body).join(',')}]`
    try {
      // Every call of a batch counts against the provider's budget (SPEC §6), paced before any timer starts.
      const maxWaitMs = Math.min(...live.map((entry) => entry.options.maxBudgetWaitMs ?? entry.options.timeoutMs))
      await paced(provider, live.length, maxWaitMs, controller.signal)
      for (const entry of live) entry.start(onSettled)
      countBatch(provider, live.length)
      const response = await fetch(provider.url, { method: 'POST', headers: HEADERS, body, signal: controller.signal })
      noteRateLimit(provider, response)
      tooLarge = response.status === 413
      if (tooLarge) await response.body?.cancel()
      else {
        // One answer's cap bounds the whole batch: past it, its calls go again one by one, each with its own.
        const text = await readResponseCapped(response, options.maxResponseBytes, provider)
        alone = distribute(provider, response.status, text, live)
      }
    } catch (error) {
      if (error instanceof UpstreamBodyTooLargeError) alone = live
      else if (isConnectionReset(error) && !controller.signal.aborted) tooLarge = true
      else if (error instanceof QueueFullError) for (const entry of live) entry.fail(error)
      else {
        const failure = error instanceof UpstreamError ? error : new UpstreamNetworkError(provider.label, error)
        for (const entry of live) entry.fail(failure)
      }
    } finally {
      provider.slots.release()
    }
    if (tooLarge) resendSmaller(provider, live, body.length)
    for (const entry of alone) void postAlone(provider, entry)
  }

  /**
   * A reset or HTTP 413 to a batch refuses its size, not its calls (nodes cap request bodies, many
   * gateways lower than anvil's 2 MB): its calls go again in two halves, halved again while
   * refused, down to single calls; never failed for it, never a strike. A single call too large
   * then fails on its own, as it would unbatched.
   */
  const resendSmaller = (provider: Provider, entries: Entry[], bytes: number) => {
    learnTooLarge(provider, bytes)
    const live = entries.filter((entry) => !entry.done)
    // Halves by count, not re-packed up to the learned bound: even parts, and each round is smaller, so splitting ends.
    const half = Math.ceil(live.length / 2)
    for (const part of [live.slice(0, half), live.slice(half)]) {
      if (part.length === 1) void postAlone(provider, part[0] as Entry)
      else if (part.length > 1) void postBatch(provider, part)
    }
  }

  /** Each call gets its own answer from the batch's; returns the calls to send again on their own. */
  const distribute = (provider: Provider, status: number, text: string, live: Entry[]): Entry[] => {
    if (status === 429 || status >= 500) throw new UpstreamStatusError(provider.label, status)
    let body: unknown
    try {
      body = JSON.parse(text)
    } catch {
      if (status >= 200 && status < 300) throw new UpstreamInvalidBodyError(provider.label, 'not JSON')
      refuse(provider, `HTTP ${status} to a batch`)
      return live
    }
    if (!Array.isArray(body) || body.length === 0) {
      const error = (body as { error?: unknown } | null)?.error
      // A rate limit on the whole batch is the provider's trouble for every call in it, like a 429.
      if (isErrorObject(error) && classifyRpcError(error) === 'rate-limited') {
        provider.budget.limited()
        throw new UpstreamRpcFaultError(provider.label, 'rate-limited', error)
      }
      refuse(
        provider,
        isErrorObject(error) ? `error ${error.code} to a batch: ${error.message}` : 'no array answering a batch',
      )
      return live
    }
    const byId = new Map<unknown, object>()
    for (const item of body)
      if (item !== null && typeof item === 'object') byId.set((item as { id?: unknown }).id, item)
    const missing: Entry[] = []
    for (const entry of live) {
      const item = byId.get(entry.id)
      if (item === undefined) missing.push(entry)
      else {
        try {
          entry.settle(noteAnswer(provider, answerItem(provider, item, options.maxResponseBytes)))
        } catch (error) {
          entry.fail(error)
        }
      }
    }
    // None answered: the provider does not read batches (it may answer only the first call, or garbage).
    if (missing.length === live.length) refuse(provider, 'no call of a batch answered')
    return missing
  }

  return {
    open() {
      const queued = new Map<Provider, Entry[]>()
      let scheduled = false
      const flush = () => {
        scheduled = false
        for (const [provider, entries] of queued) {
          queued.delete(provider)
          dispatch(provider, entries)
        }
      }
      return {
        accepts,
        post(provider, body, id, attemptOptions) {
          const entry = createEntry(provider, body, id, attemptOptions, now)
          const entries = queued.get(provider)
          if (entries === undefined) queued.set(provider, [entry])
          else entries.push(entry)
          if (!scheduled) {
            scheduled = true
            nextTurn(flush)
          }
          return entry.answer
        },
      }
    },
  }
}

/** One call waiting in, or sent with, a batch. */
type Entry = {
  readonly body: string
  readonly id: number
  readonly options: BatchedAttemptOptions
  readonly answer: Promise<UpstreamAnswer>
  done: boolean
  /** Sent now, as part of a batch: its timer starts (unless it was sent before), and `onSettled` is told once it is done. */
  start(onSettled: () => void): void
  /** Sent on its own from now: the time it has left (its full timeout if it was not sent before); undefined when already done. */
  handOver(): number | undefined
  settle(answer: UpstreamAnswer): void
  fail(error: unknown): void
}

function createEntry(
  provider: Provider,
  body: string,
  id: number,
  options: BatchedAttemptOptions,
  now: () => number,
): Entry {
  let resolve!: (answer: UpstreamAnswer) => void
  let reject!: (error: unknown) => void
  const answer = new Promise<UpstreamAnswer>((ok, fail) => {
    resolve = ok
    reject = fail
  })
  let timer: ReturnType<typeof setTimeout> | undefined
  let sentAt: number | undefined
  let settled: (() => void) | undefined
  const { signal } = options.controller
  const onAbort = () => entry.fail(signal.reason)
  const detach = () => {
    clearTimeout(timer)
    signal.removeEventListener('abort', onAbort)
  }
  const send = () => {
    sentAt = now()
    options.onSent?.()
  }
  const finish = () => {
    entry.done = true
    detach()
    settled?.()
  }
  signal.addEventListener('abort', onAbort, { once: true })
  const entry: Entry = {
    body,
    id,
    options,
    answer,
    done: false,
    start(onSettled) {
      settled = onSettled
      // Sent again after its batch was refused as too large: its clock runs on from the first send.
      if (sentAt !== undefined) return
      send()
      timer = setTimeout(
        () => entry.fail(new UpstreamTimeoutError(provider.label, options.timeoutMs)),
        options.timeoutMs,
      )
    },
    handOver() {
      if (entry.done) return undefined
      detach()
      settled = undefined
      if (sentAt === undefined) send()
      return Math.max(1, (sentAt as number) + options.timeoutMs - now())
    },
    settle(value) {
      if (entry.done) return
      finish()
      resolve(value)
    },
    fail(error) {
      if (entry.done) return
      finish()
      reject(error)
    },
  }
  if (signal.aborted) entry.fail(signal.reason)
  return entry
}

/**
 * Runs of consecutive calls, each of at most `size` calls and (as a batch body `[a,b]`) at most
 * `maxBytes`; a call past `maxBytes` on its own is a run of one. Bytes are counted as characters:
 * calls are hex and ASCII almost always, and a provider refusing an undercounted batch splits it.
 */
function chunk(entries: Entry[], size: number, maxBytes: number): Entry[][] {
  const runs: Entry[][] = []
  let run: Entry[] = []
  let bytes = 1
  for (const entry of entries) {
    // Its text and the `,` or `]` after it.
    const added = entry.body.length + 1
    if (run.length > 0 && (run.length >= size || bytes + added > maxBytes)) {
      runs.push(run)
      run = []
      bytes = 1
    }
    run.push(entry)
    bytes += added
  }
  if (run.length > 0) runs.push(run)
  return runs
}

/** One item of a batch's answer, judged like a single answer; a result past the size cap is refused. */
function answerItem(provider: Provider, item: object, maxBytes: number): UpstreamAnswer {
  const answer = answerOf(provider, item)
  if (answer.kind === 'result' && answer.resultJson.length > maxBytes)
    throw new UpstreamBodyTooLargeError(provider.label, maxBytes)
  return answer
}

/** After the current turn's microtasks: every call of a client batch that needs no I/O first has been posted by then. */
const nextTurn: (run: () => void) => void =
  typeof setImmediate === 'function' ? (run) => setImmediate(run) : (run) => setTimeout(run, 0)
