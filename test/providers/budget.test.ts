import { describe, expect, test } from 'bun:test'
import { createBudget } from '../../src/providers/budget.ts'

/** A clock the test moves. */
function clock(start = 10_000) {
  const state = { now: start }
  return { now: () => state.now, advance: (ms: number) => (state.now += ms) }
}

/** Whether every one-second window of `sends` holds at most `most`. */
function windowsHold(sends: number[], most: number): boolean {
  return sends.every((start) => sends.filter((time) => time >= start && time < start + 1_000).length <= most)
}

describe('budget', () => {
  test('default', () => {
    const time = clock()
    const budget = createBudget({ now: time.now })
    expect([budget.rps, budget.configured, budget.reserve(1000), budget.spentLastSecond]).toEqual([
      undefined,
      false,
      0,
      1000,
    ])
  })

  test('behavior: rps N means at most N calls in any one-second window; the rest are given later moments, in order', () => {
    const time = clock()
    const budget = createBudget({ rps: 10, now: time.now })
    const sends = Array.from({ length: 35 }, () => time.now() + budget.reserve(1))
    expect(windowsHold(sends, 10)).toBe(true)
    expect(sends.slice(0, 10).every((at) => at === time.now())).toBe(true)
    // Paced a tenth of a second further apart than the window: calls sent at once arrive spread out.
    expect(sends[10]).toBe(time.now() + 1_100)
    expect(sends.at(-1)).toBe(time.now() + 3_300)
    expect(sends).toEqual([...sends].sort((a, b) => a - b))
  })

  test('behavior: burst adds that many more at once; a batch counts each of its calls', () => {
    const time = clock()
    const budget = createBudget({ rps: 10, burst: 5, now: time.now })
    expect(budget.reserve(15)).toBe(0)
    expect(budget.waitFor(1)).toBe(1_100)
    const batch = createBudget({ rps: 10, now: time.now })
    expect(batch.reserve(6)).toBe(0)
    expect(batch.reserve(6)).toBe(1_100)
  })

  test('behavior: a Retry-After pauses the provider, budget or not', () => {
    const time = clock()
    const budget = createBudget({ now: time.now })
    budget.limited(2)
    expect(budget.waitFor(1)).toBe(2_000)
    time.advance(2_000)
    expect(budget.waitFor(1)).toBe(0)
  })

  test('behavior: a budget nobody set is learned from a 429: what the provider accepted over the last second, then one window of pause', () => {
    const time = clock()
    const budget = createBudget({ now: time.now })
    for (let call = 0; call < 12; call++) expect(budget.reserve(1)).toBe(0)
    budget.accepted(10)
    budget.limited()
    expect([budget.rps, budget.configured, budget.limitedCount]).toEqual([10, false, 1])
    // Nothing goes for one pacing window; then ten at once, and the next ten a window later.
    const sends = Array.from({ length: 30 }, () => time.now() + budget.reserve(1))
    expect(sends[0]).toBe(time.now() + 1_100)
    expect(windowsHold(sends, 10)).toBe(true)
    expect(sends.at(-1)).toBe(time.now() + 3_300)
    expect(budget.waits).toEqual({ calls: 30, totalMs: 10 * 1_100 + 10 * 2_200 + 10 * 3_300 })
  })

  test('behavior: answers arriving during the pause after a 429 (calls sent before it) count toward the learned budget', () => {
    const time = clock()
    const budget = createBudget({ now: time.now })
    for (let call = 0; call < 100; call++) budget.reserve(1)
    // The refusals come back first; the ten calls it took are still being answered.
    budget.accepted(2)
    budget.limited()
    expect([budget.rps, budget.pausedFor()]).toEqual([2, 1_100])
    time.advance(30)
    budget.accepted(8)
    expect(budget.rps).toBe(10)
    // After the pause, an answer is an ordinary one again.
    time.advance(1_100)
    budget.accepted(1)
    expect([budget.rps, budget.pausedFor()]).toEqual([10, 0])
  })

  test('behavior: 429s at once cut once; a 429 with nothing accepted leaves one call a second', () => {
    const time = clock()
    const budget = createBudget({ now: time.now })
    budget.accepted(8)
    for (let storm = 0; storm < 5; storm++) budget.limited()
    expect(budget.rps).toBe(8)
    const cold = createBudget({ now: time.now })
    cold.limited()
    expect(cold.rps).toBe(1)
  })

  test('behavior: a learned budget grows by a tenth every 2 s while spent to the full, from 10 s after its last 429', () => {
    const time = clock()
    const budget = createBudget({ now: time.now })
    budget.accepted(20)
    budget.limited()
    expect(budget.rps).toBe(20)
    time.advance(1_101)
    const spendFully = () => {
      time.advance(1_000)
      for (let call = 0; call < (budget.rps as number); call++) budget.reserve(1)
      budget.accepted(budget.rps as number)
    }
    for (let second = 0; second < 8; second++) spendFully()
    expect(budget.rps).toBe(20)
    for (let second = 0; second < 4; second++) spendFully()
    expect(budget.rps).toBe(24)
    // Not spent to the full: no growth (a limit nobody reaches is not tested).
    time.advance(5_000)
    budget.accepted(1)
    expect(budget.rps).toBe(24)
  })

  test('behavior: a learned budget is forgotten after 10 minutes without a 429; a configured one never', () => {
    const time = clock()
    const budget = createBudget({ now: time.now })
    budget.accepted(5)
    budget.limited()
    time.advance(10 * 60_000 + 1)
    budget.accepted(1)
    expect([budget.rps, budget.waitFor(50)]).toEqual([undefined, 0])
    const configured = createBudget({ rps: 3, now: time.now })
    configured.limited()
    time.advance(10 * 60_000 + 1)
    configured.accepted(1)
    expect(configured.rps).toBe(3)
  })

  test('behavior: a configured budget is never changed by a 429, only paused by its Retry-After', () => {
    const time = clock()
    const budget = createBudget({ rps: 10, now: time.now })
    budget.limited(1)
    expect([budget.rps, budget.waitFor(1)]).toEqual([10, 1_000])
  })
})
