import { afterEach, describe, expect, test } from 'bun:test'
import parsePrometheus from 'parse-prometheus-text-format'
import { createClientCalls } from '../../src/metrics/client-calls.ts'
import { createMetricsHistory } from '../../src/metrics/history.ts'
import { startProxy, type TestProxy } from '../helpers/proxy.ts'
import { rpcErrorResponse, type ScriptedUpstream, startScriptedUpstream } from '../helpers/upstream.ts'

const cleanup: (() => Promise<void>)[] = []
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()!()
})

/** A node on chain 1 whose finalized block is 0x100; eth_call reverts; unknown methods are -32601. */
function node(): ScriptedUpstream {
  const server = startScriptedUpstream((call) => {
    switch (call.method) {
      case 'eth_chainId':
        return '0x1'
      case 'eth_getBlockByNumber':
        return { number: '0x100' }
      case 'eth_getBalance':
        return '0x64'
      case 'eth_blockNumber':
        return '0x101'
      case 'eth_call':
        return rpcErrorResponse(call, 3, 'execution reverted')
      default:
        return rpcErrorResponse(call, -32601, `the method ${call.method} does not exist/is not available`)
    }
  })
  cleanup.push(() => server.stop())
  return server
}

async function proxyFor(urls: string[]): Promise<TestProxy> {
  const proxy = await startProxy({ rpcUrls: urls, devChain: 'no' })
  cleanup.unshift(() => proxy.stop())
  await proxy.cacheReady
  return proxy
}

const sample = (families: any[], name: string, labels: Record<string, string> = {}) =>
  Number(
    families
      .find((family) => family.name === name)
      ?.metrics.find((entry: any) => Object.entries(labels).every(([key, value]) => entry.labels?.[key] === value))
      ?.value ?? Number.NaN,
  )

describe('metrics', () => {
  test('behavior: edb_metrics_history has its first sample at startup, not 30 s later', async () => {
    const proxy = await proxyFor([node().url])
    const history = (await proxy.call('edb_metrics_history')).result
    expect(history.cache_history).toEqual([
      { timestamp: expect.any(Number), cache_size: 0, hit_rate: 0, requests_per_minute: 0 },
    ])
    expect(history.provider_history).toEqual([
      {
        timestamp: expect.any(Number),
        healthy_providers: expect.any(Number),
        total_providers: 1,
        avg_response_time_ms: expect.any(Number),
      },
    ])
    expect(Math.abs(history.cache_history[0].timestamp - Date.now() / 1000)).toBeLessThan(5)
  })

  test('default', async () => {
    const proxy = await proxyFor([node().url])
    expect((await proxy.call('edb_cache_metrics')).result).toEqual({
      total_requests: 0,
      cache_hits: 0,
      cache_misses: 0,
      hit_rate: '0.0%',
      error_rate: '0.0%',
      method_stats: {},
      total_errors: 0,
      rate_limit_errors: 0,
      user_errors: 0,
    })
  })

  test('behavior: counters move exactly as calls flow', async () => {
    const proxy = await proxyFor([node().url])
    await proxy.call('eth_getBalance', ['0x01', '0x1'], 1)
    await proxy.call('eth_getBalance', ['0x01', '0x1'], 2)
    await proxy.call('eth_blockNumber', [], 3)
    await proxy.call('eth_call', [{ to: '0x01' }, 'latest'], 4)
    await proxy.call('foo_bar', [], 5)
    await proxy.call('edb_ping')
    const metrics = (await proxy.call('edb_cache_metrics')).result
    expect(metrics).toMatchObject({
      total_requests: 5,
      cache_hits: 1,
      cache_misses: 4,
      hit_rate: '20.0%',
      error_rate: '40.0%',
      total_errors: 2,
      rate_limit_errors: 0,
      user_errors: 2,
    })
    expect(Object.keys(metrics.method_stats).sort()).toEqual([
      'eth_blockNumber',
      'eth_call',
      'eth_getBalance',
      'foo_bar',
    ])
    expect(metrics.method_stats.eth_getBalance).toEqual({
      hits: 1,
      misses: 1,
      total_requests: 2,
      errors: 0,
      avg_response_time_ms: expect.any(Number),
      total_response_time_ms: expect.any(Number),
    })
    expect(Number.isInteger(metrics.method_stats.eth_getBalance.total_response_time_ms)).toBe(true)
    expect(metrics.method_stats.eth_call).toMatchObject({ hits: 0, misses: 1, total_requests: 1, errors: 1 })
    const requests = (await proxy.call('edb_request_metrics')).result
    expect(requests).toEqual({
      requests_per_minute: 5,
      // the request asking is the one in flight
      active_requests: 1,
      recent_methods: ['foo_bar', 'eth_call', 'eth_blockNumber', 'eth_getBalance'],
      error_rate: '40.0%',
      peak_requests_per_minute: 5,
    })
  })

  test('behavior: repeated identical bodies (the remembered-reply path) count as hits', async () => {
    const proxy = await proxyFor([node().url])
    const body = '{"jsonrpc":"2.0","id":1,"method":"eth_getBalance","params":["0x02","0x1"]}'
    await proxy.post(body)
    for (let round = 0; round < 4; round++) expect((await proxy.post(body)).headers.get('x-cache')).toBe('HIT')
    expect((await proxy.call('edb_cache_metrics')).result).toMatchObject({
      total_requests: 5,
      cache_hits: 4,
      cache_misses: 1,
    })
  })

  test('behavior: rate-limited upstream attempts are counted', async () => {
    // The head tracker's own calls are answered; the client's eth_gasPrice is refused.
    const limited = startScriptedUpstream((call) =>
      call.method === 'eth_gasPrice' ? new Response('slow', { status: 429 }) : '0x1',
    )
    cleanup.push(() => limited.stop())
    const proxy = await proxyFor([limited.url])
    // The lone provider is asked once more after the pause its 429 taught (SPEC §6): two rate-limited attempts.
    expect((await proxy.call('eth_gasPrice', [], 1)).error.code).toBe(-32005)
    expect((await proxy.call('edb_cache_metrics')).result).toMatchObject({
      total_errors: 1,
      rate_limit_errors: 2,
      user_errors: 0,
    })
  })

  test('behavior: method names are capped; the rest fold into "other"', async () => {
    const proxy = await proxyFor([node().url])
    await proxy.post(
      Array.from({ length: 300 }, (_, index) => ({ jsonrpc: '2.0', id: index, method: `x_m${index}`, params: [] })),
    )
    const stats = (await proxy.call('edb_cache_metrics')).result.method_stats
    expect(Object.keys(stats).length).toBe(257)
    expect(stats.other.total_requests).toBe(44)
  })

  test('behavior: GET /metrics is Prometheus text that a parser reads, with the same numbers', async () => {
    const proxy = await proxyFor([node().url])
    await proxy.call('eth_getBalance', ['0x03', '0x1'], 1)
    await proxy.call('eth_getBalance', ['0x03', '0x1'], 2)
    await proxy.call('eth_call', [{ to: '0x01' }, 'latest'], 3)
    const response = await fetch(`${proxy.url}/metrics`)
    expect(response.headers.get('content-type')).toContain('text/plain')
    const text = await response.text()
    const families = parsePrometheus(text)
    expect(sample(families, 'edb_proxy_calls_total', { method: 'eth_getBalance', cache: 'hit' })).toBe(1)
    expect(sample(families, 'edb_proxy_calls_total', { method: 'eth_getBalance', cache: 'miss' })).toBe(1)
    expect(sample(families, 'edb_proxy_call_errors_total', { method: 'eth_call' })).toBe(1)
    expect(sample(families, 'edb_proxy_errors_total', { class: 'user' })).toBe(1)
    expect(sample(families, 'edb_proxy_cache_stores_total')).toBe(1)
    expect(sample(families, 'edb_proxy_cache_entries')).toBe(1)
    expect(sample(families, 'edb_proxy_provider_circuit_state')).toBe(0)
    const upstream = families.find((family: any) => family.name === 'edb_proxy_upstream_attempts_total')
    const okAttempts = upstream.metrics
      .filter((entry: any) => entry.labels.outcome === 'ok')
      .reduce((sum: number, entry: any) => sum + Number(entry.value), 0)
    expect(okAttempts).toBeGreaterThanOrEqual(2)
    const histogram = families.find((family: any) => family.name === 'edb_proxy_call_duration_seconds')
    expect(histogram.type).toBe('HISTOGRAM')
    // one observation per data call; the parser merges labelled histogram series, so read the _count lines
    const counts = Object.fromEntries(
      [...text.matchAll(/^edb_proxy_call_duration_seconds_count\{cache="(\w+)"\} (\d+)$/gm)].map((m) => [
        m[1],
        Number(m[2]),
      ]),
    )
    expect(counts).toEqual({ miss: 1, hit: 1, bypass: 1 })
  })
})

describe('createMetricsHistory', () => {
  test('default', () => {
    let n = 0
    const history = createMetricsHistory({
      maxPoints: 3,
      sample: () => {
        n++
        return {
          cache: { timestamp: n, cache_size: n, hit_rate: 50.5, requests_per_minute: n },
          providers: { timestamp: n, healthy_providers: 1, total_providers: 2, avg_response_time_ms: 12.5 },
        }
      },
    })
    for (let i = 0; i < 5; i++) history.take()
    const snapshot = history.snapshot()
    expect(snapshot.cache_history.map((point) => point.timestamp)).toEqual([3, 4, 5])
    expect(snapshot.provider_history).toHaveLength(3)
    expect(snapshot.cache_history[0]).toEqual({ timestamp: 3, cache_size: 3, hit_rate: 50.5, requests_per_minute: 3 })
  })
})

describe('createClientCalls', () => {
  test('default', () => {
    const calls = createClientCalls(256)
    calls.record('alice', 'hit')
    calls.record('alice', 'upstream')
    calls.record('alice', 'hit')
    expect([...calls.clients]).toEqual([['alice', { hit: 2, upstream: 1, refused: 0 }]])
  })

  test('behavior: client names are capped like methods; the rest fold into "other"', () => {
    const calls = createClientCalls(2)
    for (const client of ['alice', 'bob', 'carol', 'dave', 'alice']) calls.record(client, 'refused')
    expect(Object.fromEntries(calls.clients)).toEqual({
      alice: { hit: 0, upstream: 0, refused: 2 },
      bob: { hit: 0, upstream: 0, refused: 1 },
      other: { hit: 0, upstream: 0, refused: 2 },
    })
  })
})
