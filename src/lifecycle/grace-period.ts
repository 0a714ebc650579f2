import type { Registry } from '../registry/registry.ts'

export type GracePeriodOptions = {
  /** Seconds to wait with no instances before `onExpire`; 0 never expires. */
  gracePeriodS: number
  registry: Registry
  onExpire: () => void
  /** Timer functions, injectable for tests. */
  timers?: { set: (fn: () => void, ms: number) => unknown; clear: (handle: unknown) => void }
}

const realTimers = {
  set: (fn: () => void, ms: number): unknown => setTimeout(fn, ms),
  clear: (handle: unknown) => clearTimeout(handle as ReturnType<typeof setTimeout>),
}

/** The grace-period auto-shutdown: counts down while no instance is registered. */
export type GracePeriod = {
  /** Begin watching; call once the server listens. */
  start(): void
  /** Stop counting (the proxy is stopping anyway). */
  stop(): void
  /** Whether a countdown is running. */
  readonly counting: boolean
}

/** A countdown armed whenever the registry becomes empty and cancelled by any registration. */
export function createGracePeriod(options: GracePeriodOptions): GracePeriod {
  const { gracePeriodS, registry, onExpire, timers = realTimers } = options
  let timer: unknown
  const cancel = () => {
    if (timer !== undefined) timers.clear(timer)
    timer = undefined
  }
  const arm = () => {
    if (timer !== undefined) return
    timer = timers.set(() => {
      timer = undefined
      if (registry.size === 0) onExpire()
    }, gracePeriodS * 1000)
  }
  return {
    start() {
      if (gracePeriodS <= 0) return
      registry.onChange((size) => (size > 0 ? cancel() : arm()))
      if (registry.size === 0) arm()
    },
    stop: cancel,
    get counting() {
      return timer !== undefined
    },
  }
}
