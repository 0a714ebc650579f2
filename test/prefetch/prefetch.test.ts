import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import solc from 'solc'
import { encodeFunctionData, parseAbi } from 'viem'
import { type Anvil, rpc, startAnvil } from '../helpers/anvil.ts'
import { startProxy, type TestProxy } from '../helpers/proxy.ts'
import { startScriptedUpstream } from '../helpers/upstream.ts'
import { waitFor } from '../helpers/wait.ts'

/**
 * SPEC §14: a replay's state reads at the parent block B of a final block B+1 that was just asked
 * for are answered from one prestate trace of B+1. Every value the proxy then gives about that state
 * must equal anvil's own answer at B, corner cases first: a slot written by the block's first
 * transaction and read by its second, the fee recipient, a reverted transaction's slot, an account
 * the block creates, and the EIP-2935 history contract, which the block changes before its first
 * transaction.
 */
const SOURCE = `// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;
contract Child { uint256 public x = 5; }
contract Corner {
    uint256 public a = 1;
    mapping(uint256 => uint256) public m;
    address constant HISTORY = 0x0000F90827F1C53a10cb7A02335B175320002935;
    function write(uint256 v) external { a = v; }
    function readThenWrite() external { m[1] = a + 1; }
    function revertAfterWrite() external { m[2] = 7; require(false, "no"); }
    function readHistory() external {
        (bool ok, bytes memory out) = HISTORY.staticcall(abi.encode(block.number - 1));
        require(ok);
        m[3] = uint256(bytes32(out));
    }
    function create() external { new Child(); }
}
`
const ABI = parseAbi([
  'function write(uint256 v)',
  'function readThenWrite()',
  'function revertAfterWrite()',
  'function readHistory()',
  'function create()',
])
const FRESH = '0x00000000000000000000000000000000000fe5e1'

function compile(): string {
  const input = {
    language: 'Solidity',
    sources: { 'Corner.sol': { content: SOURCE } },
    settings: { outputSelection: { '*': { '*': ['evm.bytecode.object'] } } },
  }
  const output = JSON.parse(solc.compile(JSON.stringify(input)))
  return `0x${output.contracts['Corner.sol'].Corner.evm.bytecode.object}`
}

type Seeded = { parent: number; block: number; txs: string[]; keys: { method: string; params: unknown[] }[] }

/** One block of six transactions covering the corner cases, then blocks on top so it is final (or not). */
async function seed(url: string, final: boolean): Promise<Seeded> {
  const accounts: string[] = (await rpc(url, 'eth_accounts')).result
  const deployed = await rpc(url, 'eth_sendTransaction', [{ from: accounts[9], data: compile(), gas: '0x500000' }])
  const contract = (
    await waitFor(async () => (await rpc(url, 'eth_getTransactionReceipt', [deployed.result])).result, 'deploy')
  ).contractAddress as string
  await rpc(url, 'evm_setAutomine', [false])
  const call = (from: string, data: string) => ({ from, to: contract, data, gas: '0x200000' })
  const sent = [
    call(accounts[0] as string, encodeFunctionData({ abi: ABI, functionName: 'write', args: [42n] })),
    call(accounts[1] as string, encodeFunctionData({ abi: ABI, functionName: 'readThenWrite' })),
    call(accounts[2] as string, encodeFunctionData({ abi: ABI, functionName: 'revertAfterWrite' })),
    call(accounts[3] as string, encodeFunctionData({ abi: ABI, functionName: 'readHistory' })),
    call(accounts[4] as string, encodeFunctionData({ abi: ABI, functionName: 'create' })),
    { from: accounts[5], to: FRESH, value: '0x1234', gas: '0x5208' },
  ]
  const txs: string[] = []
  for (const transaction of sent) txs.push((await rpc(url, 'eth_sendTransaction', [transaction])).result)
  await rpc(url, 'evm_mine', [])
  await rpc(url, 'evm_setAutomine', [true])
  const block = Number((await rpc(url, 'eth_blockNumber')).result)
  const mined = (await rpc(url, 'eth_getBlockByNumber', [`0x${block.toString(16)}`, false])).result
  expect(mined.transactions).toEqual(txs)
  if (final) await rpc(url, 'anvil_mine', ['0x50'])
  // What the block touches, from anvil's own tracer: every account and slot a replay reads.
  const trace = (await rpc(url, 'debug_traceBlockByNumber', [`0x${block.toString(16)}`, { tracer: 'prestateTracer' }]))
    .result
  const at = `0x${(block - 1).toString(16)}`
  const keys: Seeded['keys'] = []
  const seen = new Set<string>()
  for (const { result } of trace) {
    for (const [address, account] of Object.entries(result as Record<string, { storage?: Record<string, string> }>)) {
      if (!seen.has(address)) {
        seen.add(address)
        for (const method of ['eth_getBalance', 'eth_getTransactionCount', 'eth_getCode', 'eth_getAccountInfo'])
          keys.push({ method, params: [address, at] })
      }
      for (const slot of Object.keys(account.storage ?? {})) {
        if (seen.has(`${address}:${slot}`)) continue
        seen.add(`${address}:${slot}`)
        keys.push({ method: 'eth_getStorageAt', params: [address, slot, at] })
      }
    }
  }
  return { parent: block - 1, block, txs, keys }
}

/** A relay to anvil that logs every call it forwards, and can refuse, alter or delay some. */
function relay(
  target: string,
  rules: { refuse?: RegExp; alter?: (call: any, result: any) => any; delayMs?: number } = {},
) {
  const calls: string[] = []
  const server = startScriptedUpstream(async (body) => {
    const list = Array.isArray(body) ? body : [body]
    for (const call of list) calls.push(call.method)
    if (rules.delayMs !== undefined && list.some((call) => String(call.method).startsWith('debug_')))
      await Bun.sleep(rules.delayMs)
    const answers = await Promise.all(
      list.map(async (call) => {
        if (rules.refuse?.test(call.method))
          return { jsonrpc: '2.0', id: call.id, error: { code: -32601, message: 'Method not found' } }
        const answer = await rpc(target, call.method, call.params, call.id)
        return rules.alter === undefined || answer.result === undefined
          ? answer
          : { ...answer, result: rules.alter(call, answer.result) }
      }),
    )
    return Response.json(Array.isArray(body) ? answers : answers[0])
  })
  return {
    url: server.url,
    calls,
    count: (method: string) => calls.filter((name) => name === method).length,
    stop: server.stop,
  }
}

const STATE_METHODS = [
  'eth_getBalance',
  'eth_getTransactionCount',
  'eth_getCode',
  'eth_getStorageAt',
  'eth_getAccountInfo',
]

let anvil: Anvil
let seeded: Seeded
beforeAll(async () => {
  anvil = await startAnvil()
  seeded = await seed(anvil.url, true)
})
afterAll(() => anvil.stop())

async function replayThrough(proxy: TestProxy, serial = true) {
  await proxy.call('eth_getTransactionByHash', [seeded.txs.at(-1)])
  const read = (key: Seeded['keys'][number]) => proxy.call(key.method, key.params).then((answer) => answer.result)
  return serial
    ? await seeded.keys.reduce(
        async (done, key) => [...(await done), await read(key)],
        Promise.resolve([] as unknown[]),
      )
    : await Promise.all(seeded.keys.map(read))
}

const direct = () => Promise.all(seeded.keys.map(async (key) => (await rpc(anvil.url, key.method, key.params)).result))

describe('prefetch (SPEC §14)', () => {
  test('default', async () => {
    const upstream = relay(anvil.url)
    await using proxy = await startProxy({ rpcUrls: [upstream.url], devChain: 'no' })
    await proxy.cacheReady
    upstream.calls.length = 0
    const answers = await replayThrough(proxy)
    expect(answers).toEqual(await direct())
    expect(upstream.count('debug_traceBlockByNumber')).toBe(1)
    // Only the history contract (changed before the block's first transaction) is read upstream.
    const stateCalls = upstream.calls.filter((method) => STATE_METHODS.includes(method)).length
    expect({ stateCalls: stateCalls <= 5, keys: seeded.keys.length }).toEqual({
      stateCalls: true,
      keys: seeded.keys.length,
    })
    const stats = (await proxy.call('edb_cache_stats')).result.prefetch
    expect(stats.prefetches).toEqual({ 'block-trace:stored': 1 })
    expect(stats.keys_used).toBe(stats.keys_stored)
    const metrics = await (await fetch(`${proxy.url}/metrics`)).text()
    expect(metrics).toContain('edb_proxy_prefetches_total{outcome="block-trace:stored"} 1')
    expect(metrics).toContain(`edb_proxy_prefetch_keys_stored_total ${stats.keys_stored}`)
    expect(metrics).toContain(`edb_proxy_prefetch_keys_used_total ${stats.keys_used}`)
    await upstream.stop()
  })

  test('behavior: every answer about the parent state equals the node’s, in any spelling (checksummed address, short slot)', async () => {
    const upstream = relay(anvil.url)
    await using proxy = await startProxy({ rpcUrls: [upstream.url], devChain: 'no' })
    await proxy.cacheReady
    await replayThrough(proxy)
    for (const key of seeded.keys) {
      const [address, ...rest] = key.params as [string, ...unknown[]]
      const respelled = [address.toUpperCase().replace('0X', '0x'), ...rest]
      if (key.method === 'eth_getStorageAt') respelled[1] = `0x${BigInt(rest[0] as string).toString(16)}`
      const [through, node] = await Promise.all([
        proxy.call(key.method, respelled),
        rpc(anvil.url, key.method, key.params),
      ])
      expect({ key, result: through.result }).toEqual({ key, result: node.result })
    }
    await upstream.stop()
  })

  test('behavior: eth_getStorageValues is answered from the slots the prefetch stored, and stored as eth_getStorageAt entries', async () => {
    const slots = seeded.keys.filter((key) => key.method === 'eth_getStorageAt')
    const byAddress: Record<string, string[]> = {}
    for (const { params } of slots)
      byAddress[params[0] as string] = [...(byAddress[params[0] as string] ?? []), params[1] as string]
    const asked = [byAddress, `0x${seeded.parent.toString(16)}`]
    const node = (await rpc(anvil.url, 'eth_getStorageValues', asked)).result
    const upstream = relay(anvil.url)
    await using proxy = await startProxy({ rpcUrls: [upstream.url], devChain: 'no' })
    await proxy.cacheReady
    await replayThrough(proxy)
    upstream.calls.length = 0
    expect((await proxy.call('eth_getStorageValues', asked)).result).toEqual(node)
    expect(upstream.calls).toEqual([])
    // Without a prefetch: forwarded once, then each slot is an eth_getStorageAt hit.
    // Its proofs (SPEC §15) would travel beside it: counted in test/verify, off here.
    await using cold = await startProxy({
      rpcUrls: [upstream.url],
      devChain: 'no',
      prefetch: 'off',
      verifyState: 'off',
    })
    await cold.cacheReady
    upstream.calls.length = 0
    expect((await cold.call('eth_getStorageValues', asked)).result).toEqual(node)
    for (const { params } of slots)
      expect((await cold.call('eth_getStorageAt', params)).result).toBe(
        await rpc(anvil.url, 'eth_getStorageAt', params).then((a) => a.result),
      )
    expect(upstream.calls).toEqual(['eth_getStorageValues'])
    await upstream.stop()
  })

  test('behavior: no prefetch when nothing asked for B+1 (a fork reading state at its block), or with --prefetch off', async () => {
    for (const overrides of [{}, { prefetch: 'off' as const }]) {
      const upstream = relay(anvil.url)
      await using proxy = await startProxy({ rpcUrls: [upstream.url], devChain: 'no', ...overrides })
      await proxy.cacheReady
      if (overrides.prefetch === 'off') await proxy.call('eth_getTransactionByHash', [seeded.txs.at(-1)])
      const key = seeded.keys[0] as Seeded['keys'][number]
      expect((await proxy.call(key.method, key.params)).result).toEqual(
        (await rpc(anvil.url, key.method, key.params)).result,
      )
      expect(upstream.count('debug_traceBlockByNumber') + upstream.count('debug_traceTransaction')).toBe(0)
      await upstream.stop()
    }
  })

  test('behavior: no prefetch when B+1 is not final', async () => {
    await using recent = await startAnvil()
    const fresh = await seed(recent.url, false)
    const upstream = relay(recent.url)
    await using proxy = await startProxy({ rpcUrls: [upstream.url], devChain: 'no' })
    await proxy.cacheReady
    await proxy.call('eth_getTransactionByHash', [fresh.txs.at(-1)])
    const key = fresh.keys[0] as Seeded['keys'][number]
    expect((await proxy.call(key.method, key.params)).result).toEqual(
      (await rpc(recent.url, key.method, key.params)).result,
    )
    expect(upstream.count('debug_traceBlockByNumber')).toBe(0)
    await upstream.stop()
  })

  test('behavior: a provider that refuses every source costs no strike, and the replay is still right', async () => {
    const upstream = relay(anvil.url, { refuse: /^debug_/ })
    await using proxy = await startProxy({ rpcUrls: [upstream.url], devChain: 'no' })
    await proxy.cacheReady
    expect(await replayThrough(proxy)).toEqual(await direct())
    const providers = (await proxy.call('edb_providers')).result.providers
    expect(providers.map((provider: any) => [provider.is_healthy, provider.consecutive_failures])).toEqual([[true, 0]])
    expect((await proxy.call('edb_cache_stats')).result.prefetch.keys_stored).toBe(0)
    await upstream.stop()
  })

  test('behavior: a malformed or truncated trace stores nothing, and the replay is still right', async () => {
    const mangles: ((result: any[]) => any)[] = [
      (result) => result.slice(0, -1),
      (result) =>
        result.map((entry, index) => (index === 0 ? { ...entry, result: { '0xnot-an-address': {} } } : entry)),
      (result) =>
        result.map((entry) => ({
          ...entry,
          result: Object.fromEntries(
            Object.entries(entry.result).map(([a, v]: [string, any]) => [a, { ...v, balance: 'banana' }]),
          ),
        })),
    ]
    for (const mangle of mangles) {
      const upstream = relay(anvil.url, {
        alter: (call, result) => (call.method === 'debug_traceBlockByNumber' ? mangle(result) : result),
      })
      await using proxy = await startProxy({ rpcUrls: [upstream.url], devChain: 'no' })
      await proxy.cacheReady
      expect(await replayThrough(proxy)).toEqual(await direct())
      const stats = (await proxy.call('edb_cache_stats')).result.prefetch
      expect({ stored: stats.keys_stored, prefetches: stats.prefetches }).toEqual({
        stored: 0,
        prefetches: { 'block-trace:malformed': 1 },
      })
      await upstream.stop()
    }
  })

  test('behavior: reads arriving during a slow prefetch wait for it: right answers, not one upstream request each', async () => {
    const upstream = relay(anvil.url, { delayMs: 300 })
    await using proxy = await startProxy({ rpcUrls: [upstream.url], devChain: 'no' })
    await proxy.cacheReady
    upstream.calls.length = 0
    expect(await replayThrough(proxy, false)).toEqual(await direct())
    expect(upstream.count('debug_traceBlockByNumber')).toBe(1)
    expect(upstream.calls.filter((method) => STATE_METHODS.includes(method)).length).toBeLessThanOrEqual(5)
    await upstream.stop()
  })
})
