import { describe, expect, test } from 'bun:test'
import { createGracePeriod } from '../../src/lifecycle/grace-period.ts'
import { createRegistry } from '../../src/registry/registry.ts'

function setup(gracePeriodS: number) {
  const alive = new Set([10, 11])
  const registry = createRegistry({ heartbeatIntervalS: 10, maxInstances: 8, isAlive: (pid) => alive.has(pid) })
  const pending = new Map<number, { fn: () => void; ms: number }>()
  let nextHandle = 1
  let expired = 0
  const grace = createGracePeriod({
    gracePeriodS,
    registry,
    onExpire: () => expired++,
    timers: {
      set: (fn, ms) => {
        pending.set(nextHandle, { fn, ms })
        return nextHandle++
      },
      clear: (handle) => pending.delete(handle as number),
    },
  })
  const fire = () => {
    const timers = [...pending.values()]
    pending.clear()
    for (const timer of timers) timer.fn()
  }
  return { registry, alive, grace, pending, fire, expired: () => expired }
}

describe('createGracePeriod', () => {
  test('default', () => {
    const { grace, pending, fire, expired } = setup(30)
    grace.start()
    expect([...pending.values()].map((timer) => timer.ms)).toEqual([30_000])
    fire()
    expect(expired()).toBe(1)
  })

  test('behavior: nothing counts before start (the countdown starts once listening)', () => {
    const { pending } = setup(30)
    expect(pending.size).toBe(0)
  })

  test('behavior: a registration cancels the countdown', () => {
    const { grace, registry, pending } = setup(30)
    grace.start()
    registry.register(10)
    expect(pending.size).toBe(0)
    expect(grace.counting).toBe(false)
  })

  test('behavior: the countdown restarts when the last instance is gone, and expires', () => {
    const { grace, registry, alive, fire, expired } = setup(5)
    grace.start()
    registry.register(10)
    registry.register(11)
    alive.delete(10)
    registry.sweep()
    expect(grace.counting).toBe(false)
    alive.delete(11)
    registry.sweep()
    expect(grace.counting).toBe(true)
    fire()
    expect(expired()).toBe(1)
  })

  test('behavior: a grace period of 0 never counts down', () => {
    const { grace, pending } = setup(0)
    grace.start()
    expect(pending.size).toBe(0)
  })
})
