import { describe, expect, test } from 'bun:test'
import { breakerFailure } from '../../src/providers/breaker.ts'
import { addLatency, tierWeight } from '../../src/providers/latency.ts'
import { createProvider } from '../../src/providers/provider.ts'
import { createWeightedSelector } from '../../src/providers/select.ts'

const options = { maxFailures: 1, baseCooldownMs: 1_000, maxCooldownMs: 4_000 }

function seeded(seed: number) {
  return () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31
    return seed / 2 ** 31
  }
}

describe('createWeightedSelector', () => {
  test('default', () => {
    const providers = ['http://a', 'http://b'].map((url) => createProvider(url, options))
    const order = createWeightedSelector(seeded(1))(providers, 0)
    expect(order.map((candidate) => candidate.provider.url).sort()).toEqual(['http://a', 'http://b'])
  })

  test('behavior: latency tiers weight the first pick (100 : 10 for fast vs 600 ms+)', () => {
    expect([tierWeight(50), tierWeight(250), tierWeight(450), tierWeight(900), tierWeight(null)]).toEqual([
      100, 60, 30, 10, 60,
    ])
    const [fast, slow] = ['http://fast', 'http://slow'].map((url) => createProvider(url, options)) as [
      ReturnType<typeof createProvider>,
      ReturnType<typeof createProvider>,
    ]
    addLatency(fast.latency, 20)
    addLatency(slow.latency, 900)
    const select = createWeightedSelector(seeded(7))
    let fastFirst = 0
    for (let i = 0; i < 2_000; i++) if (select([slow, fast], 0)[0]?.provider === fast) fastFirst++
    expect(fastFirst / 2_000).toBeGreaterThan(0.85)
    expect(fastFirst / 2_000).toBeLessThan(0.97)
  })

  test('behavior: open circuits come last, half-open ones as a trial, quarantined never', () => {
    const [ok, open, trial, bad] = ['http://ok', 'http://open', 'http://trial', 'http://bad'].map((url) =>
      createProvider(url, options),
    ) as ReturnType<typeof createProvider>[]
    breakerFailure(open!.breaker, options, 900)
    breakerFailure(trial!.breaker, options, 0)
    bad!.quarantined = true
    const order = createWeightedSelector(seeded(3))([bad!, open!, trial!, ok!], 1_000)
    expect(order.map((candidate) => [candidate.provider.url, candidate.trial])).toEqual([
      ['http://ok', false],
      ['http://trial', true],
      ['http://open', false],
    ])
  })
})
