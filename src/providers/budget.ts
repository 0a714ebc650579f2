/**
 * A provider's request budget (SPEC §6): at most `rps` calls in any one-second window, plus `burst`
 * more at once, the calls of a batch counted one by one. Calls are paced, not refused: a call is
 * given the moment it may go, and waits for it (on its caller's clock). A provider's `Retry-After`
 * pauses it. A budget nobody set is learned from the provider's 429s: cut to what it accepted over
 * the last second, grown slowly while it is used to the full and nothing is refused, forgotten
 * after a long quiet.
 */
export type Budget = {
  /** Reserve `calls` sends: how long to wait before sending them (0: now). */
  reserve(calls: number): number
  /** How long `calls` sends would wait now, without reserving. */
  waitFor(calls: number): number
  /** The provider answered `calls` calls without a rate limit. */
  accepted(calls: number): void
  /** The provider said 429 (with `Retry-After` seconds, when it gave them). */
  limited(retryAfterS?: number): void
  /** The calls per second allowed (configured or learned); undefined: no limit known. */
  readonly rps: number | undefined
  /** Calls sent over the last second (for `/metrics` and `edb_providers`). */
  readonly spentLastSecond: number
  /** Whether the budget was configured (`providers:` in the config file) rather than learned. */
  readonly configured: boolean
  /** Rate limits the provider answered (429s), since start. */
  readonly limitedCount: number
  /** Calls that waited for their moment, and the time they waited in all (ms), since start. */
  readonly waits: { calls: number; totalMs: number }
  /** How long nothing may be sent (a `Retry-After`, or a learned budget's pause after a 429); 0: not paused. */
  pausedFor(): number
}

const WINDOW_MS = 1_000
/** Paced sends keep a tenth of a second more apart than the window: calls sent at once arrive spread out. */
const PACING_WINDOW_MS = 1_100
/** A learned budget grows once per this while it is spent to the full, starting this long after the last 429. */
const GROW_EVERY_MS = 2_000
const GROW_AFTER_LIMITED_MS = 10_000
/** A learned budget nothing refused for this long is forgotten (providers change plans, the proxy's load changes). */
const FORGET_AFTER_MS = 10 * 60_000

export function createBudget({
  rps,
  burst = 0,
  now = Date.now,
}: {
  rps?: number
  burst?: number
  now?: () => number
} = {}): Budget {
  const configured = rps !== undefined
  let limit = rps === undefined ? undefined : Math.max(1, Math.floor(rps))
  let pausedUntilMs = 0
  let lastLimitedMs = Number.NEGATIVE_INFINITY
  let lastGrownMs = Number.NEGATIVE_INFINITY
  let limitedCount = 0
  /** After a 429, until the pause ends: answers still arriving for calls sent before it count toward the learned limit. */
  let learning = { untilMs: Number.NEGATIVE_INFINITY, accepted: 0 }
  const waits = { calls: 0, totalMs: 0 }
  /** Send times reserved while a limit is known, oldest first (only the last `limit + burst` matter). */
  const sends: number[] = []
  const sent = createFlow()
  const answered = createFlow()
  const capacity = () => (limit === undefined ? Number.POSITIVE_INFINITY : limit + burst)
  /** The earliest moment `calls` more sends fit in every one-second window. */
  const earliest = (calls: number, at: number): number => {
    const start = Math.max(at, pausedUntilMs)
    const room = capacity()
    if (room === Number.POSITIVE_INFINITY) return start
    // At most `room - calls` earlier sends may share our window: the one before them must be a full window older.
    const index = sends.length - (room - Math.min(calls, room)) - 1
    return index >= 0 && index < sends.length ? Math.max(start, (sends[index] as number) + PACING_WINDOW_MS) : start
  }
  const forget = () => {
    const keep = capacity()
    if (sends.length > 2 * keep) sends.splice(0, sends.length - keep)
  }
  /** A learned limit grows by a tenth (at least one) while it is the bottleneck; after a long quiet it is dropped. */
  const adjustLearned = (at: number) => {
    if (configured || limit === undefined) return
    if (at - lastLimitedMs > FORGET_AFTER_MS) {
      limit = undefined
      sends.length = 0
      return
    }
    if (at - lastLimitedMs < GROW_AFTER_LIMITED_MS || at - lastGrownMs < GROW_EVERY_MS || sent.over(at) < limit) return
    limit += Math.max(1, Math.floor(limit / 10))
    lastGrownMs = at
  }
  return {
    reserve(calls) {
      const at = now()
      sent.add(calls, at)
      if (limit === undefined && pausedUntilMs <= at) return 0
      forget()
      const start = earliest(calls, at)
      if (limit !== undefined) for (let added = 0; added < calls; added++) sends.push(start)
      if (start > at) {
        waits.calls += calls
        waits.totalMs += start - at
      }
      return start - at
    },
    waitFor(calls) {
      const at = now()
      return earliest(calls, at) - at
    },
    accepted(calls) {
      const at = now()
      answered.add(calls, at)
      if (at <= learning.untilMs) {
        learning.accepted += calls
        limit = Math.max(1, learning.accepted)
      } else if (limit !== undefined && !configured) adjustLearned(at)
    },
    limited(retryAfterS) {
      const at = now()
      limitedCount += 1
      if (retryAfterS !== undefined && retryAfterS > 0) pausedUntilMs = Math.max(pausedUntilMs, at + retryAfterS * 1000)
      lastLimitedMs = at
      if (configured || at <= learning.untilMs) return
      // What it accepted over the last second is what it allows (answers of calls sent before the 429 still
      // count while they arrive); nothing more goes until that window has passed.
      learning = { untilMs: at + PACING_WINDOW_MS, accepted: answered.over(at) }
      limit = Math.max(1, learning.accepted)
      sends.length = 0
      pausedUntilMs = Math.max(pausedUntilMs, learning.untilMs)
    },
    pausedFor() {
      return Math.max(0, pausedUntilMs - now())
    },
    get rps() {
      return limit
    },
    get spentLastSecond() {
      return sent.over(now())
    },
    configured,
    get limitedCount() {
      return limitedCount
    },
    waits,
  }
}

/** Calls counted over the last second: the current whole second, and the one before weighted by how much of it is still in the window. */
function createFlow() {
  const flow = { second: 0, current: 0, previous: 0 }
  const roll = (at: number) => {
    const second = Math.floor(at / WINDOW_MS)
    if (second === flow.second) return
    flow.previous = second === flow.second + 1 ? flow.current : 0
    flow.current = 0
    flow.second = second
  }
  return {
    add(calls: number, at: number) {
      roll(at)
      flow.current += calls
    },
    over(at: number): number {
      roll(at)
      return Math.round(flow.current + flow.previous * (1 - (at % WINDOW_MS) / WINDOW_MS))
    },
  }
}
