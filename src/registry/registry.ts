/** A registered debugger process. */
export type Instance = {
  pid: number
  /** Unix seconds of the (latest) registration. */
  registeredAt: number
  lastHeartbeatMs: number
  /** The client's own heartbeat period as observed, or null before its second heartbeat. */
  observedPeriodMs: number | null
}

export type RegistryOptions = {
  /** The heartbeat period the proxy expects (`--heartbeat-interval`), in seconds. */
  heartbeatIntervalS: number
  /** Most instances held at once (client input never grows memory without bound). */
  maxInstances: number
  isAlive: (pid: number) => boolean
  now?: () => number
}

/** Outcome of a registration attempt. */
export type RegisterResult = { ok: true; instance: Instance } | { ok: false; reason: 'full' }

/** The debugger instances the proxy lives for. */
export type Registry = {
  register(pid: number): RegisterResult
  /** Refresh a known pid; an unknown pid whose process is alive is registered again. */
  heartbeat(pid: number): Instance | undefined
  /** Drop instances whose process is gone or whose heartbeats stopped; returns the live pids. */
  sweep(): number[]
  readonly size: number
  /** Called after every change of membership. */
  onChange(listener: (size: number) => void): void
}

const MISSED_HEARTBEATS = 3

/** An instance registry with liveness by `isAlive` (`process.kill(pid, 0)`) and heartbeat freshness. */
export function createRegistry(options: RegistryOptions): Registry {
  const now = options.now ?? Date.now
  const instances = new Map<number, Instance>()
  const listeners: ((size: number) => void)[] = []
  const changed = () => {
    for (const listener of listeners) listener(instances.size)
  }

  const add = (pid: number): RegisterResult => {
    if (!instances.has(pid) && instances.size >= options.maxInstances) {
      sweepQuietly()
      if (instances.size >= options.maxInstances) return { ok: false, reason: 'full' }
    }
    const at = now()
    const instance = { pid, registeredAt: Math.floor(at / 1000), lastHeartbeatMs: at, observedPeriodMs: null }
    instances.set(pid, instance)
    changed()
    return { ok: true, instance }
  }

  const isGone = (instance: Instance, at: number) => {
    const periodMs = Math.max(options.heartbeatIntervalS * 1000, instance.observedPeriodMs ?? 0)
    return at - instance.lastHeartbeatMs > MISSED_HEARTBEATS * periodMs || !options.isAlive(instance.pid)
  }

  const sweepQuietly = () => {
    const at = now()
    let removed = false
    for (const instance of instances.values()) {
      if (isGone(instance, at)) removed = instances.delete(instance.pid) || removed
    }
    return removed
  }

  return {
    register: add,
    heartbeat(pid) {
      const instance = instances.get(pid)
      if (instance === undefined) {
        if (!options.isAlive(pid)) return undefined
        const result = add(pid)
        return result.ok ? result.instance : undefined
      }
      const at = now()
      instance.observedPeriodMs = at - instance.lastHeartbeatMs
      instance.lastHeartbeatMs = at
      return instance
    },
    sweep() {
      if (sweepQuietly()) changed()
      return [...instances.keys()]
    },
    get size() {
      return instances.size
    },
    onChange(listener) {
      listeners.push(listener)
    },
  }
}
