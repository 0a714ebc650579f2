import { describe, expect, test } from 'bun:test'
import { methodCost } from '../../src/limits/method-cost.ts'
import { createTokenBuckets } from '../../src/limits/token-buckets.ts'

describe('token buckets', () => {
  test('default', () => {
    const buckets = createTokenBuckets({ ratePerS: 1, burst: 1, now: () => 0 })
    expect(buckets.take('a', 1)).toEqual({ ok: true })
  })

  test('behavior: a full bucket gives its burst, then refills at the rate; Retry-After says when the next call fits', () => {
    let clock = 0
    const buckets = createTokenBuckets({ ratePerS: 2, burst: 4, now: () => clock })
    const taken = Array.from({ length: 5 }, () => buckets.take('a', 1).ok)
    expect(taken).toEqual([true, true, true, true, false])
    expect(buckets.take('a', 3)).toEqual({ ok: false, retryAfterS: 2 })
    clock = 500
    expect(buckets.take('a', 1)).toEqual({ ok: true })
    expect(buckets.take('a', 1)).toEqual({ ok: false, retryAfterS: 1 })
    clock = 10_000
    // Never more than the burst, however long it waited.
    expect(Array.from({ length: 5 }, () => buckets.take('a', 1).ok)).toEqual([true, true, true, true, false])
  })

  test('behavior: clients have separate buckets; a call dearer than the burst passes on a full bucket only', () => {
    let clock = 0
    const buckets = createTokenBuckets({ ratePerS: 1, burst: 10, now: () => clock })
    expect(buckets.take('a', 20)).toEqual({ ok: true })
    expect(buckets.take('a', 1).ok).toBe(false)
    // Charged in full: the bucket owes 10, so after 10 s it is still empty, after 20 s full again.
    clock = 10_000
    expect(buckets.take('a', 1).ok).toBe(false)
    clock = 20_000
    expect(buckets.take('a', 10)).toEqual({ ok: true })
    expect(buckets.take('b', 10)).toEqual({ ok: true })
  })

  test('behavior: beyond the tracked clients the least recently seen is forgotten (and starts full again)', () => {
    const buckets = createTokenBuckets({ ratePerS: 1, burst: 1, maxClients: 2, now: () => 0 })
    buckets.take('a', 1)
    buckets.take('b', 1)
    buckets.take('a', 1)
    buckets.take('c', 1)
    // b was the least recently seen: forgotten, so it has its burst again; a was kept, and is empty.
    expect(buckets.take('b', 1).ok).toBe(true)
    expect(buckets.take('c', 1).ok).toBe(false)
  })

  test('behavior: costs: traces 20, eth_getLogs 10, anything else 1', () => {
    expect(
      ['debug_traceTransaction', 'trace_block', 'eth_getLogs', 'eth_call', 'x'].map((method) => methodCost(method)),
    ).toEqual([20, 20, 10, 1, 1])
    // rate-costs in the config file: an exact method wins over its namespace, which wins over the defaults.
    const overrides = { debug_traceCall: 5, 'debug_*': 50, eth_call: 0 }
    expect(
      ['debug_traceCall', 'debug_traceTransaction', 'eth_call', 'eth_getLogs'].map((method) =>
        methodCost(method, overrides),
      ),
    ).toEqual([5, 50, 0, 10])
  })
})
