import type { Registry } from '../registry/registry.ts'

export type GracePeriodOptions = {
  /** Seconds to wait with no instances before `onExpire`; 0 never expires. */
  gracePeriodS: number
  registry: Registry
  onExpire: () => void
}

/** The grace-period auto-shutdown: counts down while no instance is registered. */
export type GracePeriod = {
  /** Begin watching; call once the server listens. */
  start(): void
  /** Whether a countdown is running. */
  readonly counting: boolean
}

/** A countdown armed whenever the registry becomes empty and cancelled by any registration. */
export function createGracePeriod({ gracePeriodS, registry, onExpire }: GracePeriodOptions): GracePeriod {
  let timer: ReturnType<typeof setTimeout> | undefined
  const cancel = () => {
    clearTimeout(timer)
    timer = undefined
  }
  const arm = () => {
    if (timer !== undefined) return
    timer = setTimeout(() => {
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
    get counting() {
      return timer !== undefined
    },
  }
}
