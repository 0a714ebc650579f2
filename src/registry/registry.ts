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
  /** Whether a live id names a thread rather than a process (it answers signal 0 too). @default never */
  isThread?: (pid: number) => boolean
  now?: () => number
}

/** Outcome of a registration attempt. */
export type RegisterResult = { ok: true; instance: Instance } | { ok: false; reason: 'full' }

/** Outcome of a heartbeat: known (or registered again), unknown and dead, or alive but not to be registered. */
export type HeartbeatResult =
  | { kind: 'ok'; instance: Instance }
  | { kind: 'unknown' }
  | { kind: 'not-allowed' }
  | { kind: 'full' }

/** The debugger instances the proxy lives for. */
export type Registry = {
  register(pid: number): RegisterResult
  /**
   * Refresh a known pid; an unknown pid whose process is alive is registered again, when
   * `mayRegister` (SPEC §8: only where `edb_register` itself would be allowed).
   */
  heartbeat(pid: number, mayRegister: boolean): HeartbeatResult
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

  const isThread = options.isThread ?? (() => false)

  /** Room for one more: dead or silent entries go first, then ids that are threads; a live debugger is never evicted. */
  const makeRoom = (): boolean => {
    sweepQuietly()
    if (instances.size < options.maxInstances) return true
    for (const pid of instances.keys()) {
      if (isThread(pid)) {
        instances.delete(pid)
        return true
      }
    }
    return false
  }

  const add = (pid: number): RegisterResult => {
    if (!instances.has(pid) && instances.size >= options.maxInstances && !makeRoom())
      return { ok: false, reason: 'full' }
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
    heartbeat(pid, mayRegister) {
      const instance = instances.get(pid)
      if (instance === undefined) {
        if (!options.isAlive(pid)) return { kind: 'unknown' }
        if (!mayRegister) return { kind: 'not-allowed' }
        const result = add(pid)
        return result.ok ? { kind: 'ok', instance: result.instance } : { kind: 'full' }
      }
      const at = now()
      instance.observedPeriodMs = at - instance.lastHeartbeatMs
      instance.lastHeartbeatMs = at
      return { kind: 'ok', instance }
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
