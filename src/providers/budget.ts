/**
 * A provider's request budget (SPEC §6): at most `rps` calls in any one-second window, plus `burst`
 * more at once, the calls of a batch counted one by one. Calls are paced, not refused: a call is
 * given the moment it may go, and waits for it (on its caller's clock). A provider's `Retry-After`
 * pauses it. Learning a budget nobody set from the 429s is not built yet: without one, nothing is
 * paced but that pause.
 */
export type Budget = {
  /** Reserve `calls` sends: how long to wait before sending them (0: now). */
  reserve(calls: number): number
  /** How long `calls` sends would wait now, without reserving. */
  waitFor(calls: number): number
  /** The provider said 429 (with `Retry-After` seconds, when it gave them). */
  limited(retryAfterS?: number): void
  /** The calls per second allowed (configured); undefined: no limit known. */
  readonly rps: number | undefined
  /** Calls sent over the last second (for `/metrics` and `edb_providers`). */
  readonly spentLastSecond: number
  /** Whether the budget was configured (`providers:` in the config file) rather than learned. */
  readonly configured: boolean
}

const WINDOW_MS = 1_000
/** Paced sends keep a tenth of a second more apart than the window: calls sent at once arrive spread out. */
const PACING_WINDOW_MS = 1_100

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
  const limit = rps === undefined ? undefined : Math.max(1, Math.floor(rps))
  let pausedUntilMs = 0
  /** Send times reserved while a limit is known, oldest first (only the last `limit + burst` matter). */
  const sends: number[] = []
  const sent = createFlow()
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
  return {
    reserve(calls) {
      const at = now()
      sent.add(calls, at)
      if (limit === undefined && pausedUntilMs <= at) return 0
      forget()
      const start = earliest(calls, at)
      if (limit !== undefined) for (let added = 0; added < calls; added++) sends.push(start)
      return start - at
    },
    waitFor(calls) {
      const at = now()
      return earliest(calls, at) - at
    },
    limited(retryAfterS) {
      const at = now()
      if (retryAfterS !== undefined && retryAfterS > 0) pausedUntilMs = Math.max(pausedUntilMs, at + retryAfterS * 1000)
    },
    get rps() {
      return limit
    },
    get spentLastSecond() {
      return sent.over(now())
    },
    configured,
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
