import { afterEach, describe, expect, test } from 'bun:test'
import { type Anvil, rpc, startAnvil } from '../helpers/anvil.ts'
import { freePort } from '../helpers/ports.ts'
import { startProxy, type TestProxy } from '../helpers/proxy.ts'
import { waitFor } from '../helpers/wait.ts'

const DEV = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266'
const OTHER = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8'
const cleanup: (() => Promise<void>)[] = []
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()!()
})

/** Anvil on a fixed port, so it can be restarted where the proxy expects it. */
async function anvilOn(port: number): Promise<Anvil> {
  const node = await startAnvil(['--port', String(port)])
  cleanup.push(() => node.stop())
  return node
}

/** A history on the first chain: a transfer in block 1, then enough blocks for it to be final; each answer cached. */
async function cachedHistory(anvil: Anvil, proxy: TestProxy) {
  const tx = (await rpc(anvil.url, 'eth_sendTransaction', [{ from: DEV, to: OTHER, value: '0x1000' }])).result
  await rpc(anvil.url, 'anvil_mine', ['0x50'])
  await proxy.refreshChain()
  const calls: [string, unknown[]][] = [
    ['eth_getTransactionByHash', [tx]],
    ['eth_getBalance', [OTHER, '0x1']],
    ['eth_getBlockByNumber', ['0x1', false]],
  ]
  for (const [method, params] of calls) {
    await proxy.call(method, params)
    expect((await proxy.post({ jsonrpc: '2.0', id: 1, method, params })).headers.get('x-cache')).toBe('HIT')
  }
  return calls
}

/** Every call answers as the node now does, and none of them from the old chain's cache. */
async function expectNewChain(anvil: Anvil, proxy: TestProxy, calls: [string, unknown[]][]) {
  for (const [method, params] of calls) {
    const reply = await proxy.post({ jsonrpc: '2.0', id: 3, method, params })
    expect({ method, json: reply.json }).toEqual({ method, json: await rpc(anvil.url, method, params, 3) })
    expect(reply.headers.get('x-cache')).not.toBe('HIT')
  }
}

describe('a development chain restarted under the proxy', () => {
  test('behavior: after an outage long enough to open the circuit, nothing of the old chain is served', async () => {
    const port = freePort()
    const first = await anvilOn(port)
    const proxy = await startProxy({ rpcUrls: [first.url], maxFailures: 2 })
    cleanup.unshift(() => proxy.stop())
    await proxy.cacheReady
    const calls = await cachedHistory(first, proxy)
    await first.stop()
    for (let id = 0; id < 3; id++) expect((await proxy.call('eth_gasPrice', [], id)).error.code).toBe(-32002)
    expect((await proxy.call('edb_providers')).result.providers[0].state).not.toBe('closed')
    const second = await anvilOn(port)
    await expectNewChain(second, proxy, calls)
  })

  test('behavior: restarted with no call in between, the fingerprint check empties the cache within seconds', async () => {
    const port = freePort()
    const first = await anvilOn(port)
    const proxy = await startProxy({ rpcUrls: [first.url] })
    cleanup.unshift(() => proxy.stop())
    await proxy.cacheReady
    const calls = await cachedHistory(first, proxy)
    await first.stop()
    const second = await anvilOn(port)
    // SPEC §6: checked at least every second while calls flow.
    await waitFor(
      async () => (await proxy.call('eth_getTransactionByHash', calls[0]![1])).result === null,
      'the restart to be noticed',
      5_000,
    )
    await expectNewChain(second, proxy, calls)
    expect((await proxy.call('edb_cache_stats')).result.total_entries).toBe(0)
  })
})
