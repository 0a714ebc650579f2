/** How many attempts one provider may have in flight, and how many more may wait for a slot (SPEC §6). */
export type SlotLimits = { concurrency: number; queue: number }

/** The queue was full: the provider is busy, which is neither its failure nor an attempt. */
export class QueueFullError extends Error {
  override name = 'QueueFullError'
}

/**
 * A provider's attempt slots: at most `concurrency` in flight, then a first-in first-out queue of
 * at most `queue` waiting callers, then a refusal. Waiting is the proxy's own doing, so it happens
 * before an attempt's timer starts and is never counted against the provider.
 */
export type AttemptSlots = {
  /**
   * Take a slot: true when one was free (the hot path, no promise); else a promise that resolves
   * once one is handed over, or rejects with `QueueFullError` at once, or with the abort reason.
   */
  acquire(signal?: AbortSignal): true | Promise<void>
  /** Give a slot back; the longest waiting caller gets it. */
  release(): void
  /** A slot is free now: an attempt would not wait. */
  readonly hasRoom: boolean
  readonly inFlight: number
  readonly waiting: number
}

type Waiter = {
  resolve: () => void
  reject: (reason: unknown) => void
  signal: AbortSignal | undefined
  onAbort: () => void
}

export function createAttemptSlots({ concurrency, queue }: SlotLimits): AttemptSlots {
  let inFlight = 0
  // A ring would save the shifts; the queue is short and rarely used, an array reads plainly.
  const waiters: Waiter[] = []

  const leave = (waiter: Waiter) => waiter.signal?.removeEventListener('abort', waiter.onAbort)

  return {
    acquire(signal) {
      if (inFlight < concurrency && waiters.length === 0) {
        inFlight += 1
        return true
      }
      if (signal?.aborted) return Promise.reject(signal.reason)
      if (waiters.length >= queue) {
        return Promise.reject(
          new QueueFullError(`all ${concurrency} upstream slots busy and ${queue} calls already waiting`),
        )
      }
      return new Promise<void>((resolve, reject) => {
        const waiter: Waiter = {
          resolve,
          reject,
          signal,
          onAbort: () => {
            const at = waiters.indexOf(waiter)
            if (at !== -1) waiters.splice(at, 1)
            reject(signal?.reason)
          },
        }
        signal?.addEventListener('abort', waiter.onAbort, { once: true })
        waiters.push(waiter)
      })
    },
    release() {
      const next = waiters.shift()
      if (next === undefined) {
        inFlight = Math.max(0, inFlight - 1)
        return
      }
      // The slot passes straight to the next caller: in flight stays the same.
      leave(next)
      next.resolve()
    },
    get hasRoom() {
      return inFlight < concurrency && waiters.length === 0
    },
    get inFlight() {
      return inFlight
    },
    get waiting() {
      return waiters.length
    },
  }
}
