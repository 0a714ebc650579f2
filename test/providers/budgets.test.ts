import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { type Anvil, rpc, startAnvil } from '../helpers/anvil.ts'
import { startProxy } from '../helpers/proxy.ts'
import { startScriptedUpstream } from '../helpers/upstream.ts'

/**
 * SPEC §6 budgets: a provider that allows `limit` calls a second (429 beyond, with Retry-After) in
 * front of anvil. With its budget configured, the proxy paces its calls and collects no 429; with a
 * second provider that has room, calls spill to it. (Learning an unset budget from 429s is not built yet.)
 */
function limited(target: string, limit: number) {
  const accepted: number[] = []
  const counts = { refused: 0, calls: 0 }
  const server = startScriptedUpstream(async (body) => {
    const calls = Array.isArray(body) ? body.length : 1
    const at = Date.now()
    while (accepted.length > 0 && (accepted[0] as number) <= at - 1_000) accepted.shift()
    if (accepted.length + calls > limit) {
      counts.refused += calls
      return new Response('too many requests', { status: 429, headers: { 'retry-after': '1' } })
    }
    for (let index = 0; index < calls; index++) accepted.push(at)
    counts.calls += calls
    const answer = await fetch(target, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
    return new Response(await answer.text(), { headers: { 'content-type': 'application/json' } })
  })
  return { url: server.url, counts, stop: server.stop }
}

let anvil: Anvil
beforeAll(async () => {
  anvil = await startAnvil()
  await rpc(anvil.url, 'anvil_mine', ['0x50'])
})
afterAll(() => anvil.stop())

const READS = 50
/** Distinct uncached reads at a final block: each must reach a provider. */
const reads = () =>
  Array.from({ length: READS }, (_, index) => [`0x${(index + 1).toString(16).padStart(40, '0')}`, '0x2'])

describe('provider budgets (SPEC §6)', () => {
  test('default', async () => {
    const provider = limited(anvil.url, 20)
    await using proxy = await startProxy({
      rpcUrls: [provider.url],
      providers: [{ url: provider.url, rps: 20 }],
      devChain: 'no',
    })
    await proxy.cacheReady
    const answers = await Promise.all(reads().map((params, id) => proxy.call('eth_getBalance', params, id)))
    expect(answers.every((answer) => answer.result === '0x0')).toBe(true)
    expect(provider.counts.refused).toBe(0)
    const [listed] = (await proxy.call('edb_providers')).result.providers
    expect(listed.budget.rps).toBe(20)
    const metrics = await (await fetch(`${proxy.url}/metrics`)).text()
    expect(metrics).toContain('edb_proxy_provider_spend_last_second{provider=')
    await provider.stop()
  })

  test('behavior: with two providers, one budgeted, calls spill to the one with room', async () => {
    const small = limited(anvil.url, 5)
    const large = limited(anvil.url, 1_000)
    await using proxy = await startProxy({
      rpcUrls: [small.url, large.url],
      providers: [{ url: small.url, rps: 5 }, { url: large.url }],
      devChain: 'no',
    })
    await proxy.cacheReady
    const answers = await Promise.all(reads().map((params, id) => proxy.call('eth_getBalance', params, id)))
    expect(answers.every((answer) => answer.result === '0x0')).toBe(true)
    expect({ refused: small.counts.refused, spilled: large.counts.calls > READS / 2 }).toEqual({
      refused: 0,
      spilled: true,
    })
    await small.stop()
    await large.stop()
  })
})
