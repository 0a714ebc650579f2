import { afterEach, describe, expect, test } from 'bun:test'
import { type Anvil, rpc, startAnvil } from './helpers/anvil.ts'
import { startProxy, type TestProxy } from './helpers/proxy.ts'
import { waitFor } from './helpers/wait.ts'
import { connectWs, type WsClient } from './helpers/ws-client.ts'

const cleanup: (() => Promise<void> | void)[] = []
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()!()
})

async function anvilAndProxy(overrides = {}): Promise<{ anvil: Anvil; proxy: TestProxy }> {
  const anvil = await startAnvil()
  cleanup.push(() => anvil.stop())
  const proxy = await startProxy({ rpcUrls: [anvil.url], ...overrides })
  cleanup.push(() => proxy.stop())
  await proxy.cacheReady
  return { anvil, proxy }
}

async function client(proxy: TestProxy, path = ''): Promise<WsClient> {
  const ws = await connectWs(`${proxy.url}${path}`)
  cleanup.unshift(() => ws.close())
  return ws
}

const numbers = (heads: any[]) => heads.map((head) => Number(head.number))

describe('WebSocket', () => {
  test('default', async () => {
    const { anvil, proxy } = await anvilAndProxy()
    const ws = await client(proxy)
    const reply = await ws.call('eth_chainId')
    expect(reply).toEqual({ jsonrpc: '2.0', id: 1, result: (await rpc(anvil.url, 'eth_chainId')).result })
  })

  test('behavior: newHeads over the proxy: every mined block once, in order', async () => {
    const { anvil, proxy } = await anvilAndProxy()
    const ws = await client(proxy)
    const { result: id } = await ws.call('eth_subscribe', ['newHeads'])
    expect(id).toMatch(/^0x[0-9a-f]{32}$/)
    // The first head the feed sees is the current one; then every block mined.
    await waitFor(() => (ws.notifications.get(id)?.length ?? 0) >= 1, 'the current head')
    await rpc(anvil.url, 'anvil_mine', ['0x5'])
    await waitFor(() => numbers(ws.notifications.get(id)!).includes(5), 'block 5')
    expect(numbers(ws.notifications.get(id)!)).toEqual([0, 1, 2, 3, 4, 5])
  })
})
