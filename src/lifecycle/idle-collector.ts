import { type Every, every } from '../util/every.ts'

export type IdleCollectorOptions = {
  /** Requests served so far (a counter that only grows). */
  served: () => number
  /** Run a full garbage collection (the runtime's own call). */
  collect: () => void
  /** How often to look; a look that saw no new request since the last one finds the proxy idle. @default 1000 */
  intervalMs?: number
  /** Requests since the last collection that make one worth it. @default 1000 */
  minRequests?: number
}

/**
 * After a burst, once the proxy is idle, collect garbage once: a debugger session that read a
 * million entries and went quiet gives back what the burst left behind, instead of waiting for the
 * runtime's next collection (SPEC §10 sets the bound on RSS after GC). Never while requests flow.
 */
export function createIdleCollector({
  served,
  collect,
  intervalMs = 1_000,
  minRequests = 1_000,
}: IdleCollectorOptions) {
  let lastSeen = served()
  let atCollection = lastSeen
  let timer: Every | undefined
  const check = () => {
    const now = served()
    if (now === lastSeen && now - atCollection >= minRequests) {
      collect()
      atCollection = now
    }
    lastSeen = now
  }
  return {
    /** One look, as the timer takes it (tests call it directly). */
    check,
    start() {
      timer ??= every(intervalMs, check)
    },
    stop() {
      timer?.stop()
      timer = undefined
    },
  }
}
