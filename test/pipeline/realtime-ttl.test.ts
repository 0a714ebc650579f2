import { afterEach, describe, expect, test } from 'bun:test'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createRealtimeCache } from '../../src/cache/realtime-ttl.ts'
import { loadServerOptions } from '../../src/config/load.ts'
import { startProxy, type TestProxy } from '../helpers/proxy.ts'
import { type ScriptedUpstream, startScriptedUpstream } from '../helpers/upstream.ts'

const cleanup: (() => Promise<unknown> | unknown)[] = []
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()!()
})

async function proxyWith(overrides = {}): Promise<{ proxy: TestProxy; upstream: ScriptedUpstream }> {
  let price = 0
  const upstream = startScriptedUpstream((call) =>
    call.method === 'eth_chainId' ? '0x1' : call.method === 'eth_gasPrice' ? `0x${(++price).toString(16)}` : '0x10',
  )
  cleanup.push(() => upstream.stop())
  const proxy = await startProxy({ rpcUrls: [upstream.url], ...overrides })
  cleanup.unshift(() => proxy.stop())
  await proxy.cacheReady
  return { proxy, upstream }
}

const asked = (upstream: ScriptedUpstream, method: string) =>
  upstream.hits.filter((hit) => hit.body?.method === method).length

describe('short-lived answers (realtime-ttl-ms)', () => {
  test('default', async () => {
    // Off: every "now" call goes upstream and is never reused.
    const { proxy, upstream } = await proxyWith()
    const replies = []
    for (let id = 0; id < 3; id++)
      replies.push(await proxy.post({ jsonrpc: '2.0', id, method: 'eth_gasPrice', params: [] }))
    expect(replies.map((reply) => [reply.headers.get('x-cache'), reply.json.result])).toEqual([
      ['BYPASS', '0x1'],
      ['BYPASS', '0x2'],
      ['BYPASS', '0x3'],
    ])
    expect(asked(upstream, 'eth_gasPrice')).toBe(3)
  })

  test('behavior: with a TTL, one upstream answer is shared for it, marked HIT-TTL, and stored nowhere', async () => {
    const { proxy, upstream } = await proxyWith({ realtimeTtlMs: { eth_gasPrice: 60_000 } })
    const replies = []
    for (let id = 0; id < 5; id++)
      replies.push(await proxy.post({ jsonrpc: '2.0', id, method: 'eth_gasPrice', params: [] }))
    expect(replies.map((reply) => reply.headers.get('x-cache'))).toEqual([
      'BYPASS',
      'HIT-TTL',
      'HIT-TTL',
      'HIT-TTL',
      'HIT-TTL',
    ])
    expect(replies.every((reply) => reply.json.result === '0x1')).toBe(true)
    expect(asked(upstream, 'eth_gasPrice')).toBe(1)
    expect((await proxy.call('edb_cache_stats')).result.total_entries).toBe(0)
  })

  test('behavior: the TTL runs out; eth_feeHistory is shared only up to latest; other methods never', () => {
    let clock = 0
    const realtime = createRealtimeCache({ ttls: { eth_blockNumber: 500, eth_feeHistory: 500 }, now: () => clock })
    const key = realtime.keyOf('eth_blockNumber', [])!
    realtime.set(key, 'eth_blockNumber', '"0x10"')
    clock = 499
    expect(realtime.get(key)).toBe('"0x10"')
    clock = 500
    expect(realtime.get(key)).toBeUndefined()
    expect(realtime.keyOf('eth_feeHistory', ['0x4', 'latest', []])).toBeDefined()
    expect(realtime.keyOf('eth_feeHistory', ['0x4', '0x10', []])).toBeUndefined()
    expect(realtime.keyOf('eth_gasPrice', [])).toBeUndefined()
    realtime.set(key, 'eth_blockNumber', '"0x11"')
    realtime.clear()
    expect(realtime.get(key)).toBeUndefined()
  })

  test('behavior: the config file keys realtime-ttl-ms and rate-costs take what they say, with a clear error otherwise', () => {
    const dir = mkdtempSync(join(tmpdir(), 'edb-ttl-'))
    const good = join(dir, 'good.yaml')
    writeFileSync(good, 'realtime-ttl-ms:\n  eth_blockNumber: 500\n  eth_gasPrice: 1000\n')
    expect(loadServerOptions({ flags: { config: good }, env: {} }).realtimeTtlMs).toEqual({
      eth_blockNumber: 500,
      eth_gasPrice: 1000,
    })
    const bad = join(dir, 'bad.yaml')
    writeFileSync(bad, 'realtime-ttl-ms:\n  eth_getBalance: 500\n')
    expect(() => loadServerOptions({ flags: { config: bad }, env: {} })).toThrow(
      '(expected a mapping of eth_blockNumber, eth_gasPrice, eth_maxPriorityFeePerGas, eth_feeHistory to milliseconds',
    )
    const costs = join(dir, 'costs.yaml')
    writeFileSync(costs, 'rate-costs:\n  eth_call: 3\n  "trace_*": 40\n')
    expect(loadServerOptions({ flags: { config: costs }, env: {} }).rateCosts).toEqual({ eth_call: 3, 'trace_*': 40 })
    const badCosts = join(dir, 'bad-costs.yaml')
    writeFileSync(badCosts, 'rate-costs:\n  "not a method": 3\n')
    expect(() => loadServerOptions({ flags: { config: badCosts }, env: {} })).toThrow(
      '(expected a mapping of method names (or namespace_*) to costs',
    )
    const long = join(dir, 'long.yaml')
    writeFileSync(long, 'realtime-ttl-ms:\n  eth_blockNumber: 600000\n')
    expect(() => loadServerOptions({ flags: { config: long }, env: {} })).toThrow('invalid value')
  })
})
