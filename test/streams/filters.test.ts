import { afterEach, describe, expect, test } from 'bun:test'
import { createFilterMethods } from '../../src/streams/filters.ts'
import { createStreamHub } from '../../src/streams/hub.ts'
import { type Anvil, rpc, startAnvil } from '../helpers/anvil.ts'
import { EMITTER, emit, installEmitter } from '../helpers/emitter.ts'
import { freePort } from '../helpers/ports.ts'
import { startProxy, type TestProxy } from '../helpers/proxy.ts'
import { startScriptedUpstream } from '../helpers/upstream.ts'
import { waitFor } from '../helpers/wait.ts'

const cleanup: (() => Promise<unknown> | unknown)[] = []
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()!()
})

/** An HTTP relay to anvil that can be made to fail (503), as a provider going down would. */
function relay(anvil: Anvil) {
  const state = { down: false }
  const server = startScriptedUpstream(async (call) => {
    if (state.down) return new Response('down', { status: 503 })
    const answer = await fetch(anvil.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(call),
    })
    return new Response(await answer.text(), { headers: { 'content-type': 'application/json' } })
  })
  cleanup.push(() => server.stop())
  return { url: server.url, state }
}

async function setUp(providers?: (anvil: Anvil) => string[]): Promise<{ anvil: Anvil; proxy: TestProxy }> {
  const anvil = await startAnvil()
  cleanup.push(() => anvil.stop())
  await installEmitter(anvil.url)
  // No upstream socket: the feeds poll over HTTP (quickly, for the test).
  const proxy = await startProxy({
    rpcUrls: providers?.(anvil) ?? [anvil.url],
    wsUrls: [`ws://127.0.0.1:${freePort()}`],
    pollIntervalMs: 100,
    maxFailures: 1,
  })
  cleanup.push(() => proxy.stop())
  await proxy.cacheReady
  return { anvil, proxy }
}

const blockHashes = async (anvil: Anvil, from: number, to: number) =>
  Promise.all(
    Array.from(
      { length: to - from + 1 },
      async (_, index) =>
        (await rpc(anvil.url, 'eth_getBlockByNumber', [`0x${(from + index).toString(16)}`, false])).result.hash,
    ),
  )

/** Poll a filter until it has given `count` changes in all; returns them. */
async function changes(proxy: TestProxy, id: string, count: number) {
  const all: any[] = []
  await waitFor(async () => {
    const reply = await proxy.call('eth_getFilterChanges', [id])
    all.push(...reply.result)
    return all.length >= count
  }, `${count} changes`)
  return all
}

describe('filters over HTTP', () => {
  test('default', async () => {
    const { proxy } = await setUp()
    const { result: id } = await proxy.call('eth_newBlockFilter')
    expect(id).toMatch(/^0x[0-9a-f]{32}$/)
    expect((await proxy.call('eth_getFilterChanges', [id])).result).toBeInstanceOf(Array)
  })

  test('behavior: a block filter gives each new block hash once, in order; a poll after that gives nothing new', async () => {
    const { anvil, proxy } = await setUp()
    const { result: id } = await proxy.call('eth_newBlockFilter')
    // Not the head current when it was made (block 0): every block after it.
    expect((await proxy.call('eth_getFilterChanges', [id])).result).toEqual([])
    await rpc(anvil.url, 'anvil_mine', ['0x3'])
    expect(await changes(proxy, id, 3)).toEqual(await blockHashes(anvil, 1, 3))
    expect((await proxy.call('eth_getFilterChanges', [id])).result).toEqual([])
  })

  test('behavior: a log filter gives matching logs as they come; eth_getFilterLogs gives every log of its range', async () => {
    const { anvil, proxy } = await setUp()
    const { result: id } = await proxy.call('eth_newFilter', [{ fromBlock: '0x0', address: EMITTER }])
    const { result: other } = await proxy.call('eth_newFilter', [
      { address: '0x00000000000000000000000000000000000000e2' },
    ])
    await waitFor(async () => (await proxy.call('edb_streams')).result.sources[0].polling, 'the feed')
    const sent = []
    for (let index = 0; index < 2; index++) sent.push(await emit(anvil.url))
    expect((await changes(proxy, id, 2)).map((log) => log.transactionHash)).toEqual(sent)
    expect((await proxy.call('eth_getFilterChanges', [other])).result).toEqual([])
    const logs = (await proxy.call('eth_getFilterLogs', [id])).result
    expect(logs.map((log: any) => log.transactionHash)).toEqual(sent)
  })

  test('behavior: a filter survives the loss of the provider it was first served from', async () => {
    let relays: ReturnType<typeof relay>[] = []
    const { anvil, proxy } = await setUp((node) => {
      relays = [relay(node), relay(node)]
      return relays.map((each) => each.url)
    })
    const { result: id } = await proxy.call('eth_newBlockFilter')
    let mined = 0
    for (const down of [0, 1, 0]) {
      for (const [index, each] of relays.entries()) each.state.down = index === down
      await rpc(anvil.url, 'anvil_mine', ['0x2'])
      mined += 2
      expect(await changes(proxy, id, 2)).toEqual(await blockHashes(anvil, mined - 1, mined))
    }
  })

  test('behavior: unknown ids, bad params and uninstalling', async () => {
    const { proxy } = await setUp()
    expect((await proxy.call('eth_getFilterChanges', ['0x1234'])).error).toEqual({
      code: -32000,
      message: 'filter not found',
    })
    expect((await proxy.call('eth_getFilterChanges', [])).error.code).toBe(-32602)
    expect((await proxy.call('eth_newFilter', [{ address: 'nope' }])).error.code).toBe(-32602)
    expect((await proxy.call('eth_newFilter', [{ fromBlock: 'soon' }])).error.code).toBe(-32602)
    expect((await proxy.call('eth_newFilter', [{ blockHash: `0x${'1'.repeat(64)}` }])).error.code).toBe(-32602)
    expect((await proxy.call('eth_newFilter', [])).error.code).toBe(-32602)
    expect((await proxy.call('eth_newBlockFilter', [1])).error.code).toBe(-32602)
    const { result: id } = await proxy.call('eth_newPendingTransactionFilter')
    const { result: blocks } = await proxy.call('eth_newBlockFilter')
    expect((await proxy.call('eth_getFilterLogs', [blocks])).error.code).toBe(-32000)
    expect((await proxy.call('eth_uninstallFilter', [id])).result).toBe(true)
    expect((await proxy.call('eth_uninstallFilter', [id])).result).toBe(false)
    expect((await proxy.call('eth_getFilterChanges', [id])).error.code).toBe(-32000)
    expect((await proxy.call('edb_streams')).result.subscriptions).toMatchObject({
      newHeads: 1,
      newPendingTransactions: 0,
    })
  })

  test('behavior: filters are bounded in number, and one idle for 5 minutes is gone (and frees its place)', async () => {
    let clock = 0
    const hub = createStreamHub({
      candidates: [],
      pollIntervalMs: 60_000,
      call: async () => ({ error: { code: -32002, message: 'none' } }),
      warn: () => {},
    })
    cleanup.push(() => hub.stop())
    const filters = createFilterMethods({
      hub,
      getLogs: async () => ({ resultJson: '[]' }),
      maxFilters: 2,
      now: () => clock,
    })
    cleanup.push(() => filters.stop())
    const install = () => filters.methods.eth_newBlockFilter!.run([], () => ({})) as Promise<string>
    const first = await install()
    clock = 4 * 60_000
    const second = await install()
    await expect(install()).rejects.toThrow('too many filters installed: the limit is 2')
    clock = 5 * 60_000 + 1
    // The first, idle past 5 minutes, is removed to make room; the second, polled 1 minute ago, stays.
    const third = await install()
    expect(() => filters.methods.eth_getFilterChanges!.run([first], () => ({}))).toThrow('filter not found')
    expect(filters.methods.eth_getFilterChanges!.run([second], () => ({}))).toEqual([])
    expect(third).toMatch(/^0x/)
    expect(filters.size).toBe(2)
    expect(hub.stats().subscriptions.newHeads).toBe(2)
  })
})
