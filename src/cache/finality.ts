export type FinalityOptions = {
  /** Ask the chain for its finalized block number (undefined when it cannot say). */
  fetchFinalized: () => Promise<number | undefined>
  /** Least time between two asks, so a burst of near-head calls costs one upstream call per period. */
  minRefreshMs: number
  now?: () => number
}

/** What the proxy knows of the chain's finality, learned lazily (no polling while nobody calls). */
export type Finality = {
  /** Whether `block` is at or below the finalized block, asking the chain only when it must. */
  isFinal(block: number): boolean | Promise<boolean>
  /** Forget what was learned (a development chain rewrote its history). */
  reset(): void
  readonly finalized: number
}

/** Track the finalized block: answer from memory when a block is known final, refresh single-flight otherwise. */
export function createFinality({ fetchFinalized, minRefreshMs, now = Date.now }: FinalityOptions): Finality {
  let finalized = -1
  let refreshedAtMs = Number.NEGATIVE_INFINITY
  let refreshing: Promise<void> | undefined
  let generation = 0

  const refresh = () => {
    const started = generation
    const waitMs = refreshedAtMs + minRefreshMs - now()
    const ask = () => (waitMs > 0 ? new Promise((resolve) => setTimeout(resolve, waitMs)).then(fetchFinalized) : fetchFinalized())
    refreshing ??= ask()
      .then((block) => {
        if (started === generation && block !== undefined && block > finalized) finalized = block
      })
      .catch(() => {})
      .finally(() => {
        refreshedAtMs = now()
        refreshing = undefined
      })
    return refreshing
  }

  return {
    isFinal(block) {
      if (block <= finalized) return true
      // Asked again no sooner than minRefreshMs after the last answer: a burst waits for one refresh.
      return refresh().then(() => block <= finalized)
    },
    reset() {
      generation++
      finalized = -1
      refreshedAtMs = Number.NEGATIVE_INFINITY
    },
    get finalized() {
      return finalized
    },
  }
}
