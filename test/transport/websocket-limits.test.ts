import { afterEach, describe, expect, test } from 'bun:test'
import { type Anvil, rpc, startAnvil } from '../helpers/anvil.ts'
import { startProxy, type TestProxy } from '../helpers/proxy.ts'
import { rawWebSocket } from '../helpers/raw-ws.ts'
import { startScriptedUpstream } from '../helpers/upstream.ts'
import { waitFor } from '../helpers/wait.ts'
import { connectWs, type WsClient } from '../helpers/ws-client.ts'

const cleanup: (() => Promise<void> | void)[] = []
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()!()
})

let anvil: Anvil
async function proxyWith(overrides = {}): Promise<TestProxy> {
  anvil = await startAnvil()
  cleanup.push(() => anvil.stop())
  const proxy = await startProxy({ rpcUrls: [anvil.url], ...overrides })
  cleanup.push(() => proxy.stop())
  await proxy.cacheReady
  return proxy
}

async function client(proxy: TestProxy, init?: { headers?: Record<string, string> }, path = ''): Promise<WsClient> {
  const ws = await connectWs(`${proxy.url}${path}`, init)
  cleanup.unshift(() => ws.close())
  return ws
}

const upgradeStatus = async (proxy: TestProxy, headers: Record<string, string> = {}, path = '') => {
  const response = await fetch(`${proxy.url}${path}`, {
    headers: {
      connection: 'Upgrade',
      upgrade: 'websocket',
      'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
      'sec-websocket-version': '13',
      ...headers,
    },
  })
  return { status: response.status, body: await response.text() }
}

describe('WebSocket limits and bad input', () => {
  test('default', async () => {
    const proxy = await proxyWith()
    const ws = await client(proxy)
    expect((await ws.call('edb_ping')).result.status).toBe('ok')
  })

  test('behavior: batches, management methods, cache and errors over a socket, as over HTTP', async () => {
    const proxy = await proxyWith()
    const ws = await client(proxy)
    const batch = await ws.send(
      JSON.stringify([
        { jsonrpc: '2.0', id: 'a', method: 'eth_chainId', params: [] },
        { jsonrpc: '2.0', id: 'b', method: 'no_such_method', params: [] },
        { jsonrpc: '2.0', method: 'eth_chainId', params: [] },
      ]),
      undefined,
    )
    expect(batch).toBeUndefined()
    await waitFor(() => ws.messages.some((message) => Array.isArray(message)), 'the batch reply')
    const reply = ws.messages.find((message) => Array.isArray(message))!
    expect(reply.map((entry: any) => entry.id)).toEqual(['a', 'b'])
    expect(reply[0].result).toBe('0x7a69')
    expect(reply[1].error.code).toBe(-32601)
  })

  test('behavior: a bad frame gets a JSON-RPC error and the socket stays open', async () => {
    const proxy = await proxyWith()
    const ws = await client(proxy)
    for (const garbage of ['{', 'null', '[]', '"x"', '{"jsonrpc":"2.0","id":9}', '\u0000\u0001']) {
      ws.socket.send(garbage)
    }
    await waitFor(() => ws.messages.length >= 6, 'six errors')
    expect(
      ws.messages.every((message) => message.error !== undefined || (Array.isArray(message) && message.length > 0)),
    ).toBe(true)
    expect((await ws.call('eth_chainId')).result).toBe('0x7a69')
    expect((await ws.call('eth_subscribe', ['noSuchKind'])).error.code).toBe(-32602)
    expect((await ws.call('eth_subscribe', ['logs', { address: 'nope' }])).error.code).toBe(-32602)
    expect((await ws.call('eth_subscribe', ['logs', { topics: [1] }])).error.code).toBe(-32602)
    // params that are neither a list nor an object are not a valid request at all
    expect((await ws.call('eth_subscribe', 'newHeads' as never)).error.code).toBe(-32600)
    expect((await ws.call('eth_unsubscribe', [1])).error.code).toBe(-32602)
  })

  test('behavior: eth_subscribe over HTTP says to use WebSocket (-32601); nothing is subscribed', async () => {
    const proxy = await proxyWith()
    const reply = await proxy.call('eth_subscribe', ['newHeads'])
    expect(reply.error.code).toBe(-32601)
    expect(reply.error.message).toContain('WebSocket')
    expect((await proxy.call('edb_streams')).result.feeds).toEqual([])
  })

  test('behavior: subscriptions per connection are limited (-32005) and the connection keeps working', async () => {
    const proxy = await proxyWith({ wsMaxSubscriptions: 3 })
    const ws = await client(proxy)
    for (let index = 0; index < 3; index++) expect((await ws.call('eth_subscribe', ['newHeads'])).result).toMatch(/^0x/)
    const refused = await ws.call('eth_subscribe', ['newHeads'])
    expect(refused.error).toMatchObject({ code: -32005 })
    expect(refused.error.message).toContain('limit is 3')
    // Another connection has its own allowance.
    const other = await client(proxy)
    expect((await other.call('eth_subscribe', ['newHeads'])).result).toMatch(/^0x/)
  })

  test('behavior: connections beyond --ws-max-connections are refused at the upgrade with 503', async () => {
    const proxy = await proxyWith({ wsMaxConnections: 2 })
    await client(proxy)
    const second = await client(proxy)
    const refused = await upgradeStatus(proxy)
    expect(refused.status).toBe(503)
    expect(JSON.parse(refused.body).error.code).toBe(-32005)
    second.close()
    await second.closed
    await waitFor(
      async () => (await proxy.call('edb_streams')).result.connections.open === 1,
      'the closed connection counted out',
    )
    await client(proxy)
  })

  test('behavior: upgrades that fail (no Sec-WebSocket-Key) are never counted as connections', async () => {
    const proxy = await proxyWith({ wsMaxConnections: 2 })
    for (let attempt = 0; attempt < 5; attempt++) {
      const response = await fetch(proxy.url, { headers: { connection: 'Upgrade', upgrade: 'websocket' } })
      expect(response.status).toBe(400)
    }
    expect((await proxy.call('edb_streams')).result.connections.open).toBe(0)
    await client(proxy)
    await client(proxy)
  })

  test("behavior: in a batch, a new subscription's events wait until the reply naming its id is sent", async () => {
    anvil = await startAnvil()
    cleanup.push(() => anvil.stop())
    // A provider whose eth_getBalance waits until a block was mined and delivered: the batch's reply waits for it.
    let mined: () => void = () => {}
    const blockDelivered = new Promise<void>((resolve) => {
      mined = resolve
    })
    const slow = startScriptedUpstream(async (call) => {
      if (call.method === 'eth_getBalance') await blockDelivered
      const answer = await fetch(anvil.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(call),
      })
      return new Response(await answer.text(), { headers: { 'content-type': 'application/json' } })
    })
    cleanup.push(() => slow.stop())
    const proxy = await startProxy({ rpcUrls: [slow.url], pollIntervalMs: 50 })
    cleanup.push(() => proxy.stop())
    await proxy.cacheReady
    const ws = await client(proxy)
    ws.socket.send(
      JSON.stringify([
        { jsonrpc: '2.0', id: 1, method: 'eth_subscribe', params: ['newHeads'] },
        {
          jsonrpc: '2.0',
          id: 2,
          method: 'eth_getBalance',
          params: ['0x0000000000000000000000000000000000000001', 'latest'],
        },
      ]),
    )
    // A subscription's events are what comes after it: a block mined once it is registered.
    await waitFor(async () => (await proxy.call('edb_streams')).result.subscriptions.newHeads === 1, 'the subscription')
    await rpc(anvil.url, 'anvil_mine', ['0x1'])
    await waitFor(
      async () => (await proxy.call('edb_streams')).result.counters.events_delivered === 1,
      'the head handed to the connection',
    )
    mined()
    await waitFor(() => ws.messages.some((message) => message?.method === 'eth_subscription'), 'the first head')
    const replyAt = ws.messages.findIndex((message) => Array.isArray(message))
    const firstEventAt = ws.messages.findIndex((message) => message?.method === 'eth_subscription')
    expect(replyAt).toBeGreaterThanOrEqual(0)
    expect(replyAt).toBeLessThan(firstEventAt)
    expect(ws.messages[firstEventAt].params.subscription).toBe(ws.messages[replyAt][0].result)
  })

  test('behavior: the access rules apply at the upgrade: Host, token (header or ?token=), browser Origin for state-changing methods', async () => {
    const proxy = await proxyWith({ authToken: 'secret-token-1' })
    expect((await upgradeStatus(proxy)).status).toBe(401)
    expect((await upgradeStatus(proxy, { host: 'evil.example' })).status).toBe(403)
    expect((await upgradeStatus(proxy, { authorization: 'Bearer wrong' })).status).toBe(401)
    const withHeader = await client(proxy, { headers: { authorization: 'Bearer secret-token-1' } })
    expect((await withHeader.call('eth_chainId')).result).toBe('0x7a69')
    const withQuery = await client(proxy, undefined, '/?token=secret-token-1')
    expect((await withQuery.call('eth_chainId')).result).toBe('0x7a69')
    const page = await client(proxy, { headers: { origin: 'https://evil.example' } }, '/?token=secret-token-1')
    const refused = await page.call('eth_sendTransaction', [
      { from: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266', to: '0x0000000000000000000000000000000000000001' },
    ])
    expect(refused.error.code).toBe(-32010)
    expect((await page.call('edb_shutdown')).error.code).toBe(-32010)
    expect((await page.call('eth_subscribe', ['newHeads'])).result).toMatch(/^0x/)
  })

  test('behavior: a frame over the body limit closes the socket with 1009; other connections go on', async () => {
    const proxy = await proxyWith({ maxBodyBytes: 4096 })
    const raw = await rawWebSocket(proxy.port)
    cleanup.push(() => raw.destroy())
    raw.sendText(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: ['x'.repeat(8192)] }))
    await waitFor(() => raw.closeFrame() !== undefined, 'the close frame')
    expect(raw.closeFrame()!.code).toBe(1009)
    const ws = await client(proxy)
    expect((await ws.call('eth_chainId')).result).toBe('0x7a69')
  })

  test('behavior: a client that stops reading is closed with 1008 naming the limit; another client keeps its heads', async () => {
    const proxy = await proxyWith({ wsSendQueueBytes: 64 * 1024 })
    const steady = await client(proxy)
    const { result: id } = await steady.call('eth_subscribe', ['newHeads'])
    const slow = await rawWebSocket(proxy.port)
    cleanup.push(() => slow.destroy())
    slow.pause()
    // Each reply is ~40 KB: the kernel's buffers fill, then the proxy's queue passes 64 KiB.
    const batch = JSON.stringify(
      Array.from({ length: 1000 }, (_, index) => ({ jsonrpc: '2.0', id: index, method: 'edb_ping', params: [] })),
    )
    for (let round = 0; round < 400; round++) slow.sendText(batch)
    await waitFor(
      async () => (await proxy.call('edb_streams')).result.connections.slow_closed === 1,
      'the slow client closed',
      20_000,
    )
    slow.resume()
    await waitFor(() => slow.closeFrame() !== undefined, 'the close frame')
    expect(slow.closeFrame()).toEqual({
      code: 1008,
      reason: 'send queue over 65536 bytes: the client reads too slowly',
    })
    await rpc(anvil.url, 'anvil_mine', ['0x2'])
    await waitFor(() => (steady.notifications.get(id)?.length ?? 0) >= 2, "the steady client's heads")
  })

  test('behavior: a graceful stop closes every client with 1001 and the proxy exits 0', async () => {
    anvil = await startAnvil()
    cleanup.push(() => anvil.stop())
    const proxy = await startProxy({ rpcUrls: [anvil.url] })
    await proxy.cacheReady
    const ws = await connectWs(proxy.url)
    await ws.call('eth_subscribe', ['newHeads'])
    proxy.shutdown('SIGTERM')
    const closed = await ws.closed
    expect([closed.code, closed.reason]).toEqual([1001, 'the proxy is shutting down'])
    expect(await proxy.exitCode).toBe(0)
  })
})
