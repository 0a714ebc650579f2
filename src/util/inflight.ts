/** Coalesces identical concurrent work: callers with the same key share one promise until it settles. */
export type Inflight<T> = {
  run(key: string, work: () => Promise<T>): Promise<T>
}

/**
 * Create a coalescing map (SPEC §5.2: identical concurrent misses share one upstream request). The
 * entry goes the moment the work settles: a caller arriving after that is not given this answer
 * (SPEC §5.1: only a stored, final answer is shared later).
 */
export function createInflight<T>(): Inflight<T> {
  const pending = new Map<string, Promise<T>>()
  return {
    run(key, work) {
      const existing = pending.get(key)
      if (existing !== undefined) return existing
      const promise = work().finally(() => {
        if (pending.get(key) === promise) pending.delete(key)
      })
      pending.set(key, promise)
      return promise
    },
  }
}
