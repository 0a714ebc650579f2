import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { type Anvil, rpc, startAnvil } from '../helpers/anvil.ts'
import { startProxy } from '../helpers/proxy.ts'
import { startRateLimited } from '../helpers/rate-limited.ts'

/**
 * SPEC §6 budgets: a provider that allows `limit` calls a second (429 beyond) in front of anvil.
 * With its budget configured, the proxy paces its calls and collects no 429; without one, it
 * learns the budget from the first 429s and paces from then on; with a second provider that has
 * room, calls spill to it. The proxy's own calls count against the same budget.
 */

let anvil: Anvil
beforeAll(async () => {
  anvil = await startAnvil()
  await rpc(anvil.url, 'anvil_mine', ['0x50'])
})
afterAll(() => anvil.stop())

/** Distinct uncached reads at a final block: each must reach a provider. */
const reads = (count: number) =>
  Array.from({ length: count }, (_, index) => [`0x${(index + 1).toString(16).padStart(40, '0')}`, '0x2'])

describe('provider budgets (SPEC §6)', () => {
  test('default', async () => {
    const provider = startRateLimited(anvil.url, 20)
    await using proxy = await startProxy({
      rpcUrls: [provider.url],
      providers: [{ url: provider.url, rps: 20 }],
      devChain: 'no',
    })
    await proxy.cacheReady
    const answers = await Promise.all(reads(50).map((params, id) => proxy.call('eth_getBalance', params, id)))
    expect(answers.every((answer) => answer.result === '0x0')).toBe(true)
    expect(provider.counts.refused).toBe(0)
    const [listed] = (await proxy.call('edb_providers')).result.providers
    expect(listed.budget.rps).toBe(20)
    const metrics = await (await fetch(`${proxy.url}/metrics`)).text()
    expect(metrics).toContain('edb_proxy_provider_spend_last_second{provider=')
    await provider.stop()
  })

  test('behavior: rps 10 against a 10-a-second provider: 100 reads sent at once all succeed, paced, with 0 429s; the head tracker counts', async () => {
    const provider = startRateLimited(anvil.url, 10)
    await using proxy = await startProxy({
      rpcUrls: [provider.url],
      providers: [{ url: provider.url, rps: 10 }],
      devChain: 'no',
    })
    await proxy.cacheReady
    const startedAt = performance.now()
    const answers = await Promise.all(reads(100).map((params, id) => proxy.call('eth_getBalance', params, id)))
    expect(answers.filter((answer) => answer.result === '0x0').length).toBe(100)
    expect(provider.counts.refused).toBe(0)
    // Paced, not sent: 100 calls within a 10-a-second budget cannot all have gone in under 8 s.
    expect(performance.now() - startedAt).toBeGreaterThan(8_000)
    // The proxy's own calls (detection, head tracking) went through the same budget and were not refused either.
    const own =
      (provider.counts.methods.get('eth_chainId') ?? 0) + (provider.counts.methods.get('eth_blockNumber') ?? 0)
    expect(own).toBeGreaterThan(0)
    const metrics = await (await fetch(`${proxy.url}/metrics`)).text()
    expect(metrics).toMatch(/edb_proxy_provider_budget_waits_total\{provider="[^"]+"\} [1-9]/)
    await provider.stop()
  }, 30_000)

  test('behavior: no budget set: the first 429s teach it, and 100 reads sent at once all succeed with at most a few 429s after the first second', async () => {
    const provider = startRateLimited(anvil.url, 10)
    await using proxy = await startProxy({ rpcUrls: [provider.url], devChain: 'no' })
    await proxy.cacheReady
    const answers = await Promise.all(reads(100).map((params, id) => proxy.call('eth_getBalance', params, id)))
    expect(answers.filter((answer) => answer.result === '0x0').length).toBe(100)
    expect(provider.counts.refused).toBeGreaterThan(0)
    const late = provider.counts.refusedAtMs.filter((at) => at > 1_000)
    expect(late.length).toBeLessThanOrEqual(3)
    const [listed] = (await proxy.call('edb_providers')).result.providers
    // Learned, never struck (SPEC §6: a 429 is never a strike).
    expect(listed).toMatchObject({ is_healthy: true, state: 'closed' })
    expect(listed.budget.rps).toBeGreaterThanOrEqual(5)
    expect(listed.budget.rps).toBeLessThanOrEqual(11)
    expect(listed.budget.configured).toBe(false)
    await provider.stop()
  }, 30_000)

  test('behavior: with two providers, one budgeted, calls spill to the one with room', async () => {
    const small = startRateLimited(anvil.url, 5)
    const large = startRateLimited(anvil.url, 1_000)
    await using proxy = await startProxy({
      rpcUrls: [small.url, large.url],
      providers: [{ url: small.url, rps: 5 }, { url: large.url }],
      devChain: 'no',
    })
    await proxy.cacheReady
    const answers = await Promise.all(reads(50).map((params, id) => proxy.call('eth_getBalance', params, id)))
    expect(answers.every((answer) => answer.result === '0x0')).toBe(true)
    expect({ refused: small.counts.refused, spilled: large.counts.calls > 25 }).toEqual({ refused: 0, spilled: true })
    await small.stop()
    await large.stop()
  })
})
