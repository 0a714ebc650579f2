/** Coalesces identical concurrent work: callers with the same key share one promise until it settles. */
export type Inflight<T> = {
  run(key: string, work: () => Promise<T>): Promise<T>
  /**
   * Keep sharing the settled result of `key`'s work with new callers until `until` settles, at most
   * `maxMs` (called from inside the work): the cache decides whether to store an answer only after
   * learning whether its block is final, and callers arriving in that window must not ask again.
   */
  linger(key: string, until: Promise<unknown>, maxMs: number): void
  readonly size: number
}

/** Create a coalescing map (SPEC §5.2: identical concurrent misses share one upstream request). */
export function createInflight<T>(): Inflight<T> {
  const pending = new Map<string, Promise<T>>()
  const lingering = new Map<string, Promise<unknown>>()
  const release = (key: string, promise: Promise<T>) => {
    if (pending.get(key) === promise) pending.delete(key)
  }
  return {
    run(key, work) {
      const existing = pending.get(key)
      if (existing !== undefined) return existing
      const promise = work().finally(() => {
        const until = lingering.get(key)
        lingering.delete(key)
        if (until === undefined) release(key, promise)
        else void until.then(() => release(key, promise))
      })
      pending.set(key, promise)
      return promise
    },
    linger(key, until, maxMs) {
      let timer: ReturnType<typeof setTimeout> | undefined
      const bounded = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, maxMs)
        until.then(
          () => resolve(),
          () => resolve(),
        )
      })
      lingering.set(
        key,
        bounded.then(() => clearTimeout(timer)),
      )
    },
    get size() {
      return pending.size
    },
  }
}
