import { describe, expect, test } from 'bun:test'
import { createRegistry } from '../../src/registry/registry.ts'

function setup(maxInstances = 4) {
  let nowMs = 1_000_000
  const alive = new Set<number>([10, 11, 12])
  const threads = new Set<number>()
  const registry = createRegistry({
    heartbeatIntervalS: 10,
    maxInstances,
    isAlive: (pid) => alive.has(pid) || threads.has(pid),
    isThread: (pid) => threads.has(pid),
    now: () => nowMs,
  })
  return { registry, alive, threads, advance: (ms: number) => (nowMs += ms) }
}

describe('createRegistry', () => {
  test('default', () => {
    const { registry } = setup()
    expect(registry.register(10)).toEqual({
      ok: true,
      instance: { pid: 10, registeredAt: 1000, lastHeartbeatMs: 1_000_000, observedPeriodMs: null },
    })
    expect(registry.sweep()).toEqual([10])
  })

  test('behavior: a dead process is swept at once', () => {
    const { registry, alive } = setup()
    registry.register(10)
    registry.register(11)
    alive.delete(10)
    expect(registry.sweep()).toEqual([11])
  })

  test('behavior: no heartbeat for 3 intervals makes an instance gone', () => {
    const { registry, advance } = setup()
    registry.register(10)
    advance(30_000)
    expect(registry.sweep()).toEqual([10])
    advance(1)
    expect(registry.sweep()).toEqual([])
  })

  test("behavior: a client's slower observed heartbeat period stretches the timeout", () => {
    const { registry, advance } = setup()
    registry.register(10)
    advance(20_000)
    registry.heartbeat(10, false)
    advance(50_000)
    expect(registry.sweep()).toEqual([10])
    advance(10_001)
    expect(registry.sweep()).toEqual([])
  })

  test('behavior: a heartbeat from an unknown live pid registers it where allowed; unknown dead pid is unknown', () => {
    const { registry } = setup()
    expect(registry.heartbeat(12, false)).toEqual({ kind: 'not-allowed' })
    expect(registry.sweep()).toEqual([])
    expect(registry.heartbeat(12, true)).toMatchObject({ kind: 'ok', instance: { pid: 12 } })
    expect(registry.sweep()).toEqual([12])
    expect(registry.heartbeat(12, false)).toMatchObject({ kind: 'ok', instance: { pid: 12 } })
    expect(registry.heartbeat(99, true)).toEqual({ kind: 'unknown' })
  })

  test('behavior: a full registry makes room from threads, never from a live debugger', () => {
    const { registry, threads } = setup(2)
    threads.add(5000)
    registry.register(10)
    registry.register(5000)
    expect(registry.register(11)).toMatchObject({ ok: true })
    expect(registry.sweep().sort()).toEqual([10, 11])
    expect(registry.register(12)).toEqual({ ok: false, reason: 'full' })
    expect(registry.sweep().sort()).toEqual([10, 11])
  })

  test('behavior: the number of instances is capped, dead ones make room', () => {
    const { registry, alive } = setup(2)
    registry.register(10)
    registry.register(11)
    expect(registry.register(12)).toEqual({ ok: false, reason: 'full' })
    alive.delete(10)
    expect(registry.register(12).ok).toBe(true)
  })

  test('behavior: listeners hear membership changes', () => {
    const { registry, alive } = setup()
    const sizes: number[] = []
    registry.onChange((size) => sizes.push(size))
    registry.register(10)
    alive.delete(10)
    registry.sweep()
    registry.sweep()
    expect(sizes).toEqual([1, 0])
  })
})
