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
    expect([budget.waitFor(1), budget.rps]).toEqual([0, undefined])
  })

  test('behavior: a configured budget is never changed by a 429, only paused by its Retry-After', () => {
    const time = clock()
    const budget = createBudget({ rps: 10, now: time.now })
    budget.limited(1)
    expect([budget.rps, budget.waitFor(1)]).toEqual([10, 1_000])
  })
})
