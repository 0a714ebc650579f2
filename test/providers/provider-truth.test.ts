import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test'
import { type Anvil, rpc, startAnvil } from '../helpers/anvil.ts'
import { startCountingForwarder } from '../helpers/counting.ts'
import { freePort } from '../helpers/ports.ts'
import { startProxy, type TestProxy } from '../helpers/proxy.ts'
import { type ScriptedUpstream, startScriptedUpstream } from '../helpers/upstream.ts'
import { waitFor } from '../helpers/wait.ts'

const cleanup: (() => Promise<void>)[] = []
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()!()
})

let anvil: Anvil
beforeAll(async () => {
  anvil = await startAnvil()
})
afterAll(() => anvil.stop())

/** A scripted node whose chain id is whatever `chainId()` says now. */
function node(chainId: () => string, answer: unknown = '0x1'): ScriptedUpstream {
  const server = startScriptedUpstream((call) => (call?.method === 'eth_chainId' ? chainId() : answer))
  cleanup.push(() => server.stop())
  return server
}

async function proxyFor(urls: string[], overrides = {}): Promise<TestProxy> {
  const proxy = await startProxy({ rpcUrls: urls, upstreamTimeoutMs: 2_000, ...overrides })
  cleanup.unshift(() => proxy.stop())
  await proxy.cacheReady
  return proxy
}

const providersOf = async (proxy: TestProxy) => (await proxy.call('edb_providers')).result
const stateOf = async (proxy: TestProxy, url: string) =>
  (await providersOf(proxy)).providers.find((entry: any) => url.startsWith(entry.url))

describe('providers tell the truth', () => {
  test('behavior: a provider refusing connections from the start is reported unhealthy, even after successful calls', async () => {
    const dead = `http://127.0.0.1:${freePort()}`
    const alive = node(() => '0x1')
    const proxy = await proxyFor([dead, alive.url])
    for (let id = 0; id < 3; id++) expect((await proxy.call('eth_gasPrice', [], id)).result).toBe('0x1')
    const view = await providersOf(proxy)
    expect(view.healthy_count).toBe(1)
    expect(view.total_count).toBe(2)
    expect(await stateOf(proxy, dead)).toMatchObject({ is_healthy: false })
    expect(await stateOf(proxy, alive.url)).toMatchObject({ is_healthy: true, state: 'closed' })
  })

  test('behavior: a healthy, busy provider that starts answering another chain is quarantined within an interval', async () => {
    let chain = '0x1'
    const switching = node(() => chain, '0xaaaa')
    const steady = node(() => '0x1', '0xbbbb')
    const proxy = await proxyFor([switching.url, steady.url], { healthCheckInterval: 1 })
    let flowing = true
    const traffic = (async () => {
      for (let id = 0; flowing; id++) await proxy.call('eth_gasPrice', [], id)
    })()
    try {
      await waitFor(
        () => switching.hits.filter((hit) => hit.body?.method === 'eth_gasPrice').length > 5,
        'the provider to be busy',
      )
      chain = '0x89'
      await waitFor(async () => (await stateOf(proxy, switching.url))?.state === 'quarantined', 'the quarantine', 5_000)
      const asked = switching.hits.filter((hit) => hit.body?.method === 'eth_gasPrice').length
      for (let id = 0; id < 20; id++) expect((await proxy.call('eth_gasPrice', [], id)).result).toBe('0xbbbb')
      expect(switching.hits.filter((hit) => hit.body?.method === 'eth_gasPrice').length).toBe(asked)
    } finally {
      flowing = false
      await traffic
    }
  })

  test('behavior: chain ids are numbers: "0x01" is chain 1 for detection, health checks and client calls', async () => {
    const padded = node(() => '0x01')
    const plain = node(() => '0x1')
    const proxy = await proxyFor([padded.url, plain.url], { healthCheckInterval: 1 })
    await waitFor(
      async () => (await stateOf(proxy, padded.url))?.last_health_check_seconds_ago !== null,
      'a health check',
    )
    for (let id = 0; id < 6; id++) await proxy.call('eth_chainId', [], id)
    expect((await providersOf(proxy)).providers.map((entry: any) => entry.state)).toEqual(['closed', 'closed'])
    expect((await fetch(`${proxy.url}/health`)).status).toBe(200)
  })

  test("behavior: 'unknown block' for a client's blockHash is relayed verbatim and opens no circuit (one provider)", async () => {
    const proxy = await proxyFor([anvil.url])
    const params = [{ blockHash: `0x${'11'.repeat(32)}` }]
    const direct = await rpc(anvil.url, 'eth_getLogs', params, 5)
    expect(direct.error.message).toBe('unknown block')
    for (let round = 0; round < 5; round++) expect(await proxy.call('eth_getLogs', params, 5)).toEqual(direct)
    expect((await providersOf(proxy)).providers[0]).toMatchObject({
      is_healthy: true,
      state: 'closed',
      consecutive_failures: 0,
    })
    expect((await fetch(`${proxy.url}/health`)).status).toBe(200)
  })

  test('behavior: "unknown block" on two providers is tried on both, relayed verbatim, and opens neither circuit', async () => {
    const [one, two] = [startCountingForwarder(anvil.url), startCountingForwarder(anvil.url)]
    cleanup.push(
      () => one.stop(),
      () => two.stop(),
    )
    const proxy = await proxyFor([one.url, two.url])
    const params = [{ blockHash: `0x${'22'.repeat(32)}` }]
    const direct = await rpc(anvil.url, 'eth_getLogs', params, 6)
    for (let round = 0; round < 5; round++) expect(await proxy.call('eth_getLogs', params, 6)).toEqual(direct)
    expect([one.count('eth_getLogs'), two.count('eth_getLogs')]).toEqual([5, 5])
    const view = await providersOf(proxy)
    expect(view.healthy_count).toBe(2)
    expect(view.providers.map((entry: any) => entry.consecutive_failures)).toEqual([0, 0])
    expect(((await (await fetch(`${proxy.url}/health`)).json()) as any).status).toBe('ok')
  })
})

describe('finality across providers', () => {
  test("behavior: one provider's finalized block past the others' head does not make near-head blocks cacheable", async () => {
    const nodeWith = (finalized: string) =>
      startScriptedUpstream((call) => {
        if (call.method === 'eth_chainId') return '0x1'
        if (call.method === 'eth_blockNumber') return '0x64'
        const [tag] = call.params
        if (tag === 'finalized') return { number: finalized, hash: `0x${'ab'.repeat(32)}` }
        return { number: tag, hash: `0x${'cd'.repeat(32)}` }
      })
    const liar = nodeWith('0x64')
    const honest = nodeWith('0x24')
    cleanup.push(
      () => liar.stop(),
      () => honest.stop(),
    )
    const proxy = await proxyFor([liar.url, honest.url], { devChain: 'no' })
    const asked = () =>
      [liar, honest].reduce(
        (sum, server) => sum + server.hits.filter((hit) => hit.body?.params?.[0] === '0x61').length,
        0,
      )
    for (let id = 0; id < 3; id++) await proxy.call('eth_getBlockByNumber', ['0x61', false], id)
    expect(asked()).toBe(3)
    for (let id = 0; id < 3; id++) await proxy.call('eth_getBlockByNumber', ['0x20', false], id)
    expect(
      [liar, honest].reduce(
        (sum, server) => sum + server.hits.filter((hit) => hit.body?.params?.[0] === '0x20').length,
        0,
      ),
    ).toBe(1)
  })
})
