import { type Every, every } from '../util/every.ts'
import { createUpstreamSubscription, type SourceDown, type UpstreamSubscription } from './upstream-subscription.ts'

/** An upstream WebSocket endpoint a feed may subscribe at. */
export type SocketCandidate = { url: string; label: string }

export type FeedSourcesOptions = {
  candidates: readonly SocketCandidate[]
  /** `eth_subscribe` params of the feed. */
  params: unknown[]
  /** An event from a socket (or from a poll, which calls it itself). */
  onEvent(result: unknown): void
  /** One poll over HTTP, used while no socket is up. */
  poll(): Promise<void>
  pollIntervalMs: number
  /** Sockets held at once (SPEC §12: up to two providers feed one subscription). */
  maxSockets: number
  onSourceDown?(label: string, reason: SourceDown): void
  /** The chain the proxy serves, once known (sockets on another are never subscribed). */
  chainId?: () => number | undefined
}

/** Where a feed's events come from now. */
export type FeedSources = {
  start(): void
  stop(): void
  /** Each socket held, and whether it is up. */
  sockets(): { label: string; up: boolean }[]
  /** True while no socket is up and the feed polls over HTTP. */
  readonly polling: boolean
}

/** Failed connects in a row after which a socket moves on to the next candidate. */
const FAILURES_BEFORE_MOVING_ON = 3
/** Poll intervals without an event from any socket after which a poll runs anyway (sockets up but silent). */
const SILENT_INTERVALS_BEFORE_POLLING = 5

/**
 * The sources of one feed: up to `maxSockets` upstream subscriptions at once, a socket that keeps
 * failing handing its place to the next candidate; while none is up, a poll over HTTP every
 * interval. Each time a socket comes up, one poll runs at once, so what was missed while it was
 * down is seen (and filled by the follower) without waiting for the next event. Sockets that stay
 * up but go silent (a stalled provider) are backed by a poll every few intervals.
 */
export function createFeedSources(options: FeedSourcesOptions): FeedSources {
  type Slot = { subscription: UpstreamSubscription; candidate: number; failures: number }
  const slots: Slot[] = []
  let nextCandidate = 0
  let timer: Every | undefined
  let polling = false
  let running = false
  let silentIntervals = 0

  const pollOnce = () => {
    if (polling || !running) return
    polling = true
    void options
      .poll()
      .catch(() => {})
      .finally(() => {
        polling = false
      })
  }

  const open = (slot: Slot | undefined, candidate: number): Slot => {
    const target = options.candidates[candidate] as SocketCandidate
    const own: Slot = slot ?? ({ candidate, failures: 0 } as Slot)
    own.candidate = candidate
    own.failures = 0
    own.subscription = createUpstreamSubscription({
      url: target.url,
      label: target.label,
      params: options.params,
      chainId: options.chainId,
      onEvent: (result) => {
        silentIntervals = 0
        options.onEvent(result)
      },
      onUp: () => {
        own.failures = 0
        pollOnce()
      },
      onDown: (reason) => {
        options.onSourceDown?.(target.label, reason)
        own.failures += 1
        if (own.failures >= FAILURES_BEFORE_MOVING_ON && options.candidates.length > slots.length) moveOn(own)
      },
    })
    return own
  }

  const moveOn = (slot: Slot) => {
    slot.subscription.stop()
    const held = new Set(slots.map((each) => each.candidate))
    for (let step = 1; step <= options.candidates.length; step++) {
      const candidate = (nextCandidate + step - 1) % options.candidates.length
      if (held.has(candidate)) continue
      nextCandidate = candidate + 1
      open(slot, candidate)
      return
    }
    open(slot, slot.candidate)
  }

  return {
    start() {
      if (running) return
      running = true
      const count = Math.min(options.maxSockets, options.candidates.length)
      for (let candidate = 0; candidate < count; candidate++) slots.push(open(undefined, candidate))
      nextCandidate = count
      pollOnce()
      timer = every(options.pollIntervalMs, () => {
        silentIntervals += 1
        if (!slots.some((slot) => slot.subscription.up) || silentIntervals >= SILENT_INTERVALS_BEFORE_POLLING) {
          silentIntervals = 0
          pollOnce()
        }
      })
    },
    stop() {
      running = false
      timer?.stop()
      for (const slot of slots.splice(0)) slot.subscription.stop()
    },
    sockets: () => slots.map((slot) => ({ label: slot.subscription.label, up: slot.subscription.up })),
    get polling() {
      return running && !slots.some((slot) => slot.subscription.up)
    },
  }
}
