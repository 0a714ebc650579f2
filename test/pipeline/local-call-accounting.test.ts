import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { type Anvil, rpc, startAnvil } from '../helpers/anvil.ts'
import { type CountingForwarder, startCountingForwarder } from '../helpers/counting.ts'
import { startProxy, type TestProxy } from '../helpers/proxy.ts'

/**
 * The filter and subscription methods are answered by the proxy itself, but they
 * are client calls like any other: counted in the call metrics, charged against the client's budget
 * (from loopback too: only management methods are free there), and `eth_getFilterLogs` resolves
 * through the data path (cache, coalescing, answer check), not straight to a provider.
 */
let anvil: Anvil
let upstream: CountingForwarder
beforeAll(async () => {
  anvil = await startAnvil()
  // Old enough blocks to be final (anvil finalizes 64 below its head).
  await rpc(anvil.url, 'anvil_mine', ['0x80'])
  upstream = startCountingForwarder(anvil.url)
})
afterAll(async () => {
  await upstream.stop()
  await anvil.stop()
})

async function proxyWith(overrides = {}): Promise<TestProxy> {
  const proxy = await startProxy({ rpcUrls: [upstream.url], devChain: 'no', ...overrides })
  await proxy.cacheReady
  return proxy
}

describe('filters and subscriptions as client calls', () => {
  test('behavior: filter calls are rate limited from loopback like any call; management calls are not', async () => {
    await using proxy = await proxyWith({ rateLimit: 1, rateBurst: 2 })
    const answers = []
    for (let id = 1; id <= 3; id++) answers.push(await proxy.call('eth_newBlockFilter', [], id))
    expect(answers.map((answer) => answer.error?.code ?? 'ok')).toEqual(['ok', 'ok', -32005])
    for (let id = 1; id <= 5; id++) expect((await proxy.call('edb_ping', [], id)).result.status).toBe('ok')
  })

  test('behavior: filter calls are counted in the call metrics', async () => {
    await using proxy = await proxyWith()
    const id = (await proxy.call('eth_newBlockFilter')).result
    await proxy.call('eth_getFilterChanges', [id])
    await proxy.call('eth_getFilterChanges', [id])
    await proxy.call('eth_uninstallFilter', [id])
    const stats = (await proxy.call('edb_cache_metrics')).result.method_stats
    expect({
      new: stats.eth_newBlockFilter?.total_requests,
      changes: stats.eth_getFilterChanges?.total_requests,
      uninstall: stats.eth_uninstallFilter?.total_requests,
    }).toEqual({ new: 1, changes: 2, uninstall: 1 })
  })

  test('behavior: eth_getFilterLogs over a final range is cached and coalesced (one upstream eth_getLogs)', async () => {
    await using proxy = await proxyWith()
    const filter = { fromBlock: '0x1', toBlock: '0x3' }
    const id = (await proxy.call('eth_newFilter', [filter])).result
    upstream.reset()
    const direct = await rpc(anvil.url, 'eth_getLogs', [filter])
    const concurrent = await Promise.all([1, 2, 3].map((n) => proxy.call('eth_getFilterLogs', [id], n)))
    const again = await proxy.call('eth_getFilterLogs', [id], 4)
    expect([...concurrent, again].map((answer) => answer.result)).toEqual([
      direct.result,
      direct.result,
      direct.result,
      direct.result,
    ])
    expect(upstream.count('eth_getLogs')).toBe(1)
  })
})
