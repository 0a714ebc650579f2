import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test'
import { type Anvil, rpc, startAnvil } from '../helpers/anvil.ts'
import { startProxy, type TestProxy } from '../helpers/proxy.ts'
import { connectWs } from '../helpers/ws-client.ts'

let anvil: Anvil
const cleanup: (() => Promise<unknown> | unknown)[] = []
beforeAll(async () => {
  anvil = await startAnvil()
  // Old enough blocks to be final (anvil finalizes 64 below its head).
  await rpc(anvil.url, 'anvil_mine', ['0x80'])
})
afterAll(() => anvil.stop())
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()!()
})

async function proxyWith(overrides = {}): Promise<TestProxy> {
  const proxy = await startProxy({ rpcUrls: [anvil.url], devChain: 'no', ...overrides })
  await proxy.cacheReady
  return proxy
}

const body = (method: string, params: unknown[] = [], id: unknown = 1) => ({ jsonrpc: '2.0', id, method, params })

describe('rate limits', () => {
  test('default', async () => {
    // Off unless asked: a burst of calls all pass.
    await using proxy = await proxyWith()
    const replies = await Promise.all(Array.from({ length: 50 }, (_, id) => proxy.post(body('eth_gasPrice', [], id))))
    expect(replies.every((reply) => reply.status === 200 && reply.json.result !== undefined)).toBe(true)
  })

  test('behavior: a budget of 5 lets exactly 5 calls through; the rest get HTTP 429, Retry-After and -32005', async () => {
    await using proxy = await proxyWith({ rateLimit: 1, rateBurst: 5 })
    const replies = []
    for (let id = 0; id < 8; id++) replies.push(await proxy.post(body('eth_gasPrice', [], id)))
    expect(replies.map((reply) => reply.status)).toEqual([200, 200, 200, 200, 200, 429, 429, 429])
    const refused = replies[5]!
    expect(refused.headers.get('retry-after')).toBe('1')
    expect(refused.json).toEqual({
      jsonrpc: '2.0',
      id: 5,
      error: { code: -32005, message: 'rate limit exceeded', data: { retry_after_seconds: 1 } },
    })
    const metrics = await (await fetch(`${proxy.url}/metrics`)).text()
    expect(metrics).toContain('edb_proxy_rate_limited_total{client="ip:127.0.0.1"} 3')
  })

  test('behavior: inside a batch each call is judged: the refused ones get -32005 with HTTP 200; a batch all refused is a 429', async () => {
    await using proxy = await proxyWith({ rateLimit: 1, rateBurst: 5 })
    const batch = await proxy.post(Array.from({ length: 7 }, (_, id) => body('eth_gasPrice', [], id)))
    expect(batch.status).toBe(200)
    expect(batch.json.filter((reply: any) => reply.result !== undefined)).toHaveLength(5)
    expect(batch.json.filter((reply: any) => reply.error?.code === -32005)).toHaveLength(2)
    const spent = await proxy.post([body('eth_gasPrice', [], 'a'), body('eth_chainId', [], 'b')])
    expect(spent.status).toBe(429)
    expect(spent.json.map((reply: any) => reply.error.code)).toEqual([-32005, -32005])
  })

  test('behavior: methods cost what SPEC §13 says: a trace 20, eth_getLogs 10, others 1', async () => {
    await using proxy = await proxyWith({ rateLimit: 1, rateBurst: 30 })
    // One batch: its calls are charged in order on arrival, so a slow upstream cannot refill the bucket in between.
    const answered = await proxy.post([
      body('debug_traceBlockByNumber', ['0x1', {}], 'trace'),
      body('eth_getLogs', [{ fromBlock: '0x1', toBlock: '0x1' }], 'logs'),
      body('eth_gasPrice', [], 'gas'),
    ])
    expect(answered.status).toBe(200)
    // 30 - 20 - 10 = 0: even a call of cost 1 waits now.
    expect(answered.json.map((reply: any) => reply.error?.code ?? 'ok')).toEqual(['ok', 'ok', -32005])
  })

  test('behavior: with --rate-free-hits, cache hits cost nothing', async () => {
    await using proxy = await proxyWith({ rateLimit: 1, rateBurst: 2, rateFreeHits: true })
    const block = body('eth_getBlockByNumber', ['0x5', false])
    expect((await proxy.post(block)).headers.get('x-cache')).toBe('MISS')
    for (let round = 0; round < 20; round++) {
      const hit = await proxy.post(block)
      expect([hit.status, hit.headers.get('x-cache')]).toEqual([200, 'HIT'])
    }
    // Calls that go upstream still count: one token was left.
    expect((await proxy.post(body('eth_gasPrice'))).status).toBe(200)
    expect((await proxy.post(body('eth_gasPrice'))).status).toBe(429)
  })

  test('behavior: without free hits, a remembered reply is charged like any call', async () => {
    await using proxy = await proxyWith({ rateLimit: 1, rateBurst: 3 })
    const block = body('eth_getBlockByNumber', ['0x6', false])
    const statuses = []
    for (let round = 0; round < 5; round++) statuses.push((await proxy.post(block)).status)
    expect(statuses).toEqual([200, 200, 200, 429, 429])
  })

  test('behavior: management methods from loopback are never limited', async () => {
    await using proxy = await proxyWith({ rateLimit: 1, rateBurst: 1 })
    expect((await proxy.post(body('eth_gasPrice'))).status).toBe(200)
    expect((await proxy.post(body('eth_gasPrice'))).status).toBe(429)
    for (let round = 0; round < 20; round++) expect((await proxy.call('edb_ping')).result.status).toBe('ok')
  })

  test('behavior: clients are told apart by token: the auth token and the admin token have budgets of their own', async () => {
    await using proxy = await proxyWith({
      rateLimit: 1,
      rateBurst: 2,
      authToken: 'client-token-1',
      adminToken: 'admin-token-1',
    })
    const as = (token: string) => proxy.post(body('eth_gasPrice'), { authorization: `Bearer ${token}` })
    expect([
      (await as('client-token-1')).status,
      (await as('client-token-1')).status,
      (await as('client-token-1')).status,
    ]).toEqual([200, 200, 429])
    expect([(await as('admin-token-1')).status, (await as('admin-token-1')).status]).toEqual([200, 200])
    const metrics = await (
      await fetch(`${proxy.url}/metrics`, { headers: { authorization: 'Bearer admin-token-1' } })
    ).text()
    expect(metrics).toContain('edb_proxy_rate_limited_total{client="auth-token"} 1')
  })

  test('behavior: over WebSocket each refused call gets -32005 and the socket stays open', async () => {
    await using proxy = await proxyWith({ rateLimit: 1, rateBurst: 2 })
    const ws = await connectWs(proxy.url)
    cleanup.push(() => ws.close())
    const codes = []
    for (let round = 0; round < 4; round++) codes.push((await ws.call('eth_gasPrice')).error?.code ?? 'ok')
    expect(codes).toEqual(['ok', 'ok', -32005, -32005])
    expect((await ws.call('edb_ping')).result.status).toBe('ok')
  })

  test('behavior: costs from the config file (rate-costs) replace the defaults', async () => {
    await using proxy = await proxyWith({ rateLimit: 1, rateBurst: 10, rateCosts: { eth_gasPrice: 4, 'debug_*': 1 } })
    const statuses = []
    for (let round = 0; round < 3; round++) statuses.push((await proxy.post(body('eth_gasPrice'))).status)
    expect(statuses).toEqual([200, 200, 429])
    // 2 tokens left: a trace now costs 1.
    expect((await proxy.post(body('debug_traceBlockByNumber', ['0x1', {}]))).status).toBe(200)
  })
})
