import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { planCall } from '../../src/cache/policy.ts'
import { type Anvil, rpc, startAnvil } from '../helpers/anvil.ts'
import { type CountingForwarder, startCountingForwarder } from '../helpers/counting.ts'
import { startProxy, type TestProxy } from '../helpers/proxy.ts'

const DEV = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266'
const OTHER = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8'
const THIRD = '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC'
/** Returns 42 from any call; emits an empty LOG0 first. */
const CONTRACT = '0x00000000000000000000000000000000000C0DE5'
const CODE = '0x60006000a0602a60005260206000f3'

let anvil: Anvil
let counter: CountingForwarder
let proxy: TestProxy
let tx: string
let hash1: string
let hash3: string
let logTx: string

const direct = async (method: string, params: unknown[] = []) => {
  const reply = await rpc(anvil.url, method, params)
  if (reply.error) throw new Error(`${method}: ${reply.error.message}`)
  return reply.result
}
const head = async () => Number.parseInt(await direct('eth_blockNumber'), 16)
const hex = (n: number) => `0x${n.toString(16)}`

beforeAll(async () => {
  anvil = await startAnvil()
  counter = startCountingForwarder(anvil.url)
  // Upstream calls are counted per method here: the prefetch (tested in test/prefetch/) would answer some state reads early.
  proxy = await startProxy({ rpcUrls: [counter.url], prefetch: 'off' })
  await proxy.cacheReady
  tx = await direct('eth_sendTransaction', [{ from: DEV, to: OTHER, value: '0x1000' }])
  await direct('anvil_setCode', [CONTRACT, CODE])
  await direct('anvil_setStorageAt', [CONTRACT, '0x0', `0x${'07'.padStart(64, '0')}`])
  await direct('evm_mine')
  logTx = await direct('eth_sendTransaction', [{ from: DEV, to: CONTRACT, data: '0x' }])
  // anvil's finalized block is head - 64: mine past it so blocks 0..3 are final.
  await direct('anvil_mine', ['0x64'])
  hash1 = (await direct('eth_getBlockByNumber', ['0x1', false])).hash
  hash3 = (await direct('eth_getBlockByNumber', ['0x3', false])).hash
  // Mined behind the proxy's back: let it learn the new head and finalized block now.
  await proxy.refreshChain()
}, 60_000)
afterAll(async () => {
  await proxy.stop()
  await counter.stop()
  await anvil.stop()
})

/** Call twice through the proxy (letting the first answer's store decision settle) and count upstream calls. */
async function twice(method: string, params: unknown[]) {
  counter.reset()
  const first = await proxy.post({ jsonrpc: '2.0', id: 1, method, params })
  const second = await proxy.post({ jsonrpc: '2.0', id: 2, method, params })
  return {
    // Counted as forwarded: in the canonical form the key means ('earliest' goes as '0x0').
    upstreamCalls: counter.count(method, planCall(method, params)?.params ?? params),
    headers: [first.headers.get('x-cache'), second.headers.get('x-cache')],
    first: first.json,
    second: second.json,
  }
}

describe('caching against anvil', () => {
  test('default', async () => {
    const result = await twice('eth_getBlockByNumber', ['0x1', false])
    expect(result.upstreamCalls).toBe(1)
    expect(result.headers).toEqual(['MISS', 'HIT'])
    expect(result.second).toEqual(await rpc(anvil.url, 'eth_getBlockByNumber', ['0x1', false], 2))
  })

  const cachedOnce = (): [string, unknown[]][] => [
    ['eth_chainId', []],
    ['net_version', []],
    ['eth_getBalance', [DEV, '0x1']],
    ['eth_getBalance', [DEV, 'earliest']],
    ['eth_getBalance', [OTHER, { blockNumber: '0x2' }]],
    ['eth_getBalance', [OTHER, { blockHash: hash1 }]],
    ['eth_getCode', [CONTRACT, '0x2']],
    ['eth_getTransactionCount', [DEV, '0x1']],
    ['eth_getStorageAt', [CONTRACT, '0x0', '0x2']],
    ['eth_getProof', [DEV, [], '0x1']],
    // Foundry 1.x asks it for every account of a fork.
    ['eth_getAccountInfo', [DEV, '0x1']],
    ['eth_getAccountInfo', [CONTRACT, { blockHash: hash3 }]],
    ['eth_call', [{ to: CONTRACT, data: '0x' }, '0x3']],
    ['eth_getBlockByNumber', ['0x1', true]],
    ['eth_getBlockByHash', [hash1, false]],
    ['eth_getBlockReceipts', ['0x1']],
    ['eth_getBlockTransactionCountByNumber', ['0x1']],
    ['eth_getBlockTransactionCountByHash', [hash1]],
    ['eth_getUncleCountByBlockNumber', ['0x1']],
    ['eth_getUncleCountByBlockHash', [hash1]],
    ['eth_getTransactionByBlockNumberAndIndex', ['0x1', '0x0']],
    ['eth_getTransactionByBlockHashAndIndex', [hash1, '0x0']],
    ['eth_getTransactionByHash', [tx]],
    ['eth_getTransactionReceipt', [tx]],
    ['eth_getRawTransactionByHash', [tx]],
    ['eth_getLogs', [{ fromBlock: '0x0', toBlock: '0x3' }]],
    ['eth_getLogs', [{ blockHash: hash3 }]],
    ['debug_traceTransaction', [logTx, {}]],
    ['debug_traceBlockByNumber', ['0x1', {}]],
    ['debug_traceBlockByHash', [hash1, {}]],
    ['debug_traceCall', [{ to: CONTRACT, data: '0x' }, '0x3', {}]],
    ['trace_transaction', [tx]],
    ['trace_block', ['0x1']],
  ]
  test('behavior: every cacheable method at a final block (or by hash) is fetched once', async () => {
    for (const [method, params] of cachedOnce()) {
      const result = await twice(method, params)
      expect({ method, params, upstreamCalls: result.upstreamCalls, cache: result.headers[1] }).toEqual({
        method,
        params,
        upstreamCalls: 1,
        cache: 'HIT',
      })
      expect({ method, answer: result.second }).toEqual({ method, answer: await rpc(anvil.url, method, params, 2) })
    }
  })

  const neverCached = async (): Promise<[string, string, unknown[]][]> => {
    const now = hex(await head())
    return [
      ['an uncacheable method', 'eth_blockNumber', []],
      ['latest', 'eth_getBalance', [DEV, 'latest']],
      ['pending', 'eth_getBalance', [DEV, 'pending']],
      ['safe', 'eth_getCode', [CONTRACT, 'safe']],
      ['finalized', 'eth_getTransactionCount', [DEV, 'finalized']],
      ['an omitted block', 'eth_call', [{ to: CONTRACT, data: '0x' }]],
      ['a block that is not final yet', 'eth_getBlockByNumber', [now, false]],
      ['state at a block that is not final yet', 'eth_getBalance', [DEV, now]],
      ['a null block', 'eth_getBlockByNumber', ['0xffffff', false]],
      ['a null receipt', 'eth_getTransactionReceipt', [`0x${'12'.repeat(32)}`]],
      ['an error', 'eth_getBalance', ['not-an-address', '0x1']],
      ['an open log range', 'eth_getLogs', [{ fromBlock: '0x0' }]],
      ['logs up to latest', 'eth_getLogs', [{ fromBlock: '0x0', toBlock: 'latest' }]],
      ['logs up to a block that is not final', 'eth_getLogs', [{ fromBlock: '0x0', toBlock: now }]],
      ['requireCanonical', 'eth_getBalance', [DEV, { blockHash: hash1, requireCanonical: true }]],
    ]
  }
  test('behavior: "now", not-final blocks, nulls and errors are forwarded every time', async () => {
    for (const [name, method, params] of await neverCached()) {
      const result = await twice(method, params)
      expect({ name, upstreamCalls: result.upstreamCalls }).toEqual({ name, upstreamCalls: 2 })
    }
  })

  test('behavior: "0x01" and "0x1" are one entry; object key order does not matter', async () => {
    await twice('eth_getBalance', [OTHER, '0x3'])
    counter.reset()
    await proxy.call('eth_getBalance', [OTHER, '0x03'])
    await proxy.call('eth_call', [{ data: '0x', to: CONTRACT }, '0x2'])
    await proxy.call('eth_call', [{ to: CONTRACT, data: '0x' }, '0x0002'])
    expect([counter.count('eth_getBalance'), counter.count('eth_call')]).toEqual([0, 1])
  })

  test("behavior: a hit answers anvil's answer with the caller's id (numbers, strings, null)", async () => {
    await twice('eth_getBlockByNumber', ['0x2', true])
    for (const id of [7, 'abc', null, 0, -1, 2 ** 40]) {
      const reply = await proxy.post({ jsonrpc: '2.0', id, method: 'eth_getBlockByNumber', params: ['0x2', true] })
      expect(reply.headers.get('x-cache')).toBe('HIT')
      expect(reply.json).toEqual(await rpc(anvil.url, 'eth_getBlockByNumber', ['0x2', true], id))
    }
  })

  test('behavior: integer ids beyond 2^53 come back byte for byte, on hits, misses, errors and in batches', async () => {
    const raw = async (body: string) => (await fetch(proxy.url, { method: 'POST', body })).text()
    const call = (id: string, method: string, params: string) =>
      `{"jsonrpc":"2.0","id":${id},"method":"${method}","params":${params}}`
    for (let round = 0; round < 2; round++) {
      expect(await raw(call('9007199254741003', 'eth_getBlockByNumber', '["0x1",false]'))).toStartWith(
        '{"jsonrpc":"2.0","id":9007199254741003,"result":',
      )
    }
    expect(await raw(call('9007199254741005', 'eth_blockNumber', '[]'))).toStartWith(
      '{"jsonrpc":"2.0","id":9007199254741005,"result":',
    )
    expect(await raw(call('18446744073709551617', 'eth_call', '[{"to":"0x1"},"latest"]'))).toStartWith(
      '{"jsonrpc":"2.0","id":18446744073709551617,"error":',
    )
    const batch = JSON.parse(
      (await raw(`[${call('1', 'eth_chainId', '[]')},${call('12345678901234567890', 'eth_chainId', '[]')}]`)).replace(
        /"id":(\d+)/g,
        '"id":"$1"',
      ),
    )
    expect(batch.map((reply: any) => reply.id)).toEqual(['1', '12345678901234567890'])
  })

  test('behavior: "params": null is taken as absent, as anvil does (alloy sends it)', async () => {
    const viaProxy = await proxy.post('{"jsonrpc":"2.0","id":4,"method":"anvil_nodeInfo","params":null}')
    expect(viaProxy.json.error).toBeUndefined()
    expect(viaProxy.json.result.environment.chainId).toBe(31337)
    expect((await proxy.post('{"jsonrpc":"2.0","id":5,"method":"eth_chainId","params":null}')).json).toEqual({
      jsonrpc: '2.0',
      id: 5,
      result: '0x7a69',
    })
  })

  test("behavior: one question, one key: an EIP-1898 object anvil rejects never shares the plain number's answer", async () => {
    const odd = await rpc(anvil.url, 'eth_getBlockByNumber', [{ blockNumber: '0x2' }, false])
    expect(odd.error).toBeDefined()
    const [bad, good] = await Promise.all([
      proxy.call('eth_getBlockByNumber', [{ blockNumber: '0x2' }, false], 1),
      proxy.call('eth_getBlockByNumber', ['0x02', false], 2),
    ])
    expect(bad.error).toEqual(odd.error)
    expect(good).toEqual(await rpc(anvil.url, 'eth_getBlockByNumber', ['0x2', false], 2))
  })

  test('behavior: what is forwarded is what the key means ("0x0003" goes upstream as "0x3")', async () => {
    counter.reset()
    await proxy.call('eth_getBlockTransactionCountByNumber', ['0x0003'])
    expect(counter.log().filter((line) => line.startsWith('eth_getBlockTransactionCountByNumber'))).toEqual([
      'eth_getBlockTransactionCountByNumber ["0x3"]',
    ])
  })

  test('behavior: 50 concurrent identical misses make one upstream call', async () => {
    counter.reset()
    const replies = await Promise.all(
      Array.from({ length: 50 }, (_, id) => proxy.call('eth_getBlockByNumber', ['0x3', true], id)),
    )
    expect(counter.count('eth_getBlockByNumber', ['0x3', true])).toBe(1)
    expect(new Set(replies.map((reply) => JSON.stringify(reply.result))).size).toBe(1)
    expect(replies.map((reply) => reply.id)).toEqual(Array.from({ length: 50 }, (_, id) => id))
  })

  test('behavior: sequential reads of blocks above the finalized one each go upstream (never the earlier copy)', async () => {
    const top = await head()
    const latestTx = await direct('eth_getBlockByNumber', [hex(top), false])
    const sequential: [string, unknown[]][] = [
      ['eth_getBlockByNumber', [hex(top), false]],
      ['eth_getBlockByNumber', [hex(top - 10), false]],
      ['eth_getBalance', [DEV, hex(top - 10)]],
      ['eth_getLogs', [{ fromBlock: '0x0', toBlock: hex(top - 10) }]],
    ]
    for (const [method, params] of sequential) {
      const result = await twice(method, params)
      expect({ method, params, upstreamCalls: result.upstreamCalls, cache: result.headers }).toEqual({
        method,
        params,
        upstreamCalls: 2,
        cache: ['MISS', 'MISS'],
      })
    }
    // A transaction by hash in a block that is not final yet.
    const recent = await direct('eth_sendTransaction', [{ from: DEV, to: THIRD, value: '0x5' }])
    expect(latestTx.number).toBe(hex(top))
    expect((await twice('eth_getTransactionByHash', [recent])).upstreamCalls).toBe(2)
    expect((await twice('eth_getTransactionReceipt', [recent])).upstreamCalls).toBe(2)
  })

  test('behavior: a final block read twice on a fresh proxy is one miss, then one hit, stored as soon as it is answered', async () => {
    const fresh = await startProxy({ rpcUrls: [counter.url], prefetch: 'off' })
    try {
      counter.reset()
      const first = await fresh.post({ jsonrpc: '2.0', id: 1, method: 'eth_getBlockByNumber', params: ['0x2', false] })
      expect(first.headers.get('x-cache')).toBe('MISS')
      expect((await fresh.call('edb_cache_stats')).result.total_entries).toBe(1)
      const second = await fresh.post({ jsonrpc: '2.0', id: 2, method: 'eth_getBlockByNumber', params: ['0x2', false] })
      expect(second.headers.get('x-cache')).toBe('HIT')
      const metrics = (await fresh.call('edb_cache_metrics')).result
      expect([metrics.cache_misses, metrics.cache_hits]).toEqual([1, 1])
      expect(counter.count('eth_getBlockByNumber', ['0x2', false])).toBe(1)
    } finally {
      await fresh.stop()
    }
  })

  test('behavior: a null block becomes visible once mined', async () => {
    const next = hex((await head()) + 1)
    expect((await proxy.call('eth_getBlockByNumber', [next, false])).result).toBeNull()
    await direct('evm_mine')
    expect((await proxy.call('eth_getBlockByNumber', [next, false])).result.number).toBe(next)
  })

  test('behavior: a pending transaction is seen mined', async () => {
    await direct('evm_setAutomine', [false])
    try {
      const pending = await direct('eth_sendTransaction', [{ from: DEV, to: THIRD, value: '0x1' }])
      expect((await proxy.call('eth_getTransactionByHash', [pending])).result.blockNumber).toBeNull()
      expect((await proxy.call('eth_getTransactionReceipt', [pending])).result).toBeNull()
      await direct('evm_mine')
      const mined = await proxy.call('eth_getTransactionByHash', [pending])
      expect(mined.result.blockNumber).toBe(hex(await head()))
      expect((await proxy.call('eth_getTransactionReceipt', [pending])).result.status).toBe('0x1')
    } finally {
      await direct('evm_setAutomine', [true])
    }
  })

  test('behavior: after evm_revert through the proxy no stale answer is served', async () => {
    const snapshot = (await proxy.call('evm_snapshot')).result
    const block = hex((await head()) + 1)
    await direct('eth_sendTransaction', [{ from: DEV, to: THIRD, value: '0x111' }])
    await direct('anvil_mine', ['0x50'])
    await proxy.refreshChain()
    const before = await proxy.call('eth_getBalance', [THIRD, block])
    expect(
      (await proxy.post({ jsonrpc: '2.0', id: 1, method: 'eth_getBalance', params: [THIRD, block] })).headers.get(
        'x-cache',
      ),
    ).toBe('HIT')
    expect((await proxy.call('evm_revert', [snapshot])).result).toBe(true)
    await direct('eth_sendTransaction', [{ from: DEV, to: THIRD, value: '0x222' }])
    await direct('anvil_mine', ['0x50'])
    const after = await proxy.call('eth_getBalance', [THIRD, block])
    expect(after.result).not.toBe(before.result)
    expect(after).toEqual(await rpc(anvil.url, 'eth_getBalance', [THIRD, block], 1))
  })

  test('behavior: anvil_setBalance through the proxy empties the cache; answers follow anvil', async () => {
    await twice('eth_getBlockByNumber', ['0x1', false])
    expect((await proxy.call('edb_cache_stats')).result.total_entries).toBeGreaterThan(0)
    expect((await proxy.call('anvil_setBalance', [THIRD, '0x1234'])).error).toBeUndefined()
    expect((await proxy.call('edb_cache_stats')).result.total_entries).toBe(0)
    expect((await proxy.call('eth_getBalance', [THIRD, 'latest'])).result).toBe('0x1234')
  })

  test('behavior: edb_cache_stats and edb_deleteCache keep the reference shapes', async () => {
    await twice('eth_getBlockByNumber', ['0x1', false])
    await twice('eth_getBlockByNumber', ['0x2', false])
    await twice('eth_getBalance', [DEV, '0x1'])
    const stats = (await proxy.call('edb_cache_stats')).result
    expect(stats).toEqual({
      total_entries: 3,
      max_entries: 1_024_000,
      utilization: '0.0%',
      oldest_entry_age_seconds: expect.any(Number),
      newest_entry_age_seconds: expect.any(Number),
      cache_file_path: '(in memory: development chain: not persisted)',
      // An extra field (SPEC §15): on a development chain nothing is proven, so nothing is counted.
      verification: expect.objectContaining({ mode: 'when-possible', verified: 0, unverifiable: 0, failed: 0 }),
    })
    expect((await proxy.call('edb_deleteCache', ['eth_getBalance', [DEV, '0x01']])).result).toEqual({
      success: true,
      deleted_count: 1,
      message: 'Deleted specific cache entry',
    })
    expect((await proxy.call('edb_deleteCache', ['eth_getBlockByNumber'])).result).toEqual({
      success: true,
      deleted_count: 2,
      message: "Deleted 2 entries for method 'eth_getBlockByNumber'",
    })
    expect((await proxy.call('edb_deleteCache', ['eth_getBalance', [DEV, '0x1']])).result.message).toBe(
      'Cache entry not found',
    )
    // SPEC §4 (compat): any params shape, strings and numbers included, gets the result, never a framing error.
    for (const params of [[], {}, [1], ['a', [], 'extra'], null, undefined, 'eth_getBlockByNumber', 7, true]) {
      const call =
        params === undefined
          ? { jsonrpc: '2.0', id: 9, method: 'edb_deleteCache' }
          : { jsonrpc: '2.0', id: 9, method: 'edb_deleteCache', params }
      expect((await proxy.post(call)).json).toEqual({
        jsonrpc: '2.0',
        id: 9,
        result: { success: false, error: 'Expected [method] or [method, params]' },
      })
    }
    expect((await proxy.call('edb_cache_stats')).result.total_entries).toBe(0)
    expect((await proxy.call('edb_cache_stats')).result.oldest_entry_age_seconds).toBeNull()
  })
})
