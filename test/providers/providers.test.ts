import { afterEach, describe, expect, test } from 'bun:test'
import { keccak256 } from 'viem'
import { rpc, startAnvil } from '../helpers/anvil.ts'
import { startProxy, type TestProxy } from '../helpers/proxy.ts'
import { rpcErrorResponse, type ScriptedUpstream, startScriptedUpstream } from '../helpers/upstream.ts'
import { waitFor } from '../helpers/wait.ts'

const cleanup: (() => Promise<void>)[] = []
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()!()
})

/** A scripted upstream on chain 1 (its eth_chainId and health probes answer unless `handler` says otherwise). */
function upstream(handler: (call: any) => unknown, chainId = () => '0x1'): ScriptedUpstream {
  const server = startScriptedUpstream((call) => {
    if (call?.method === 'eth_chainId') return chainId()
    return handler(call)
  })
  cleanup.push(() => server.stop())
  return server
}

async function proxyFor(urls: string[], overrides = {}): Promise<TestProxy> {
  const proxy = await startProxy({
    rpcUrls: urls,
    upstreamTimeoutMs: 3_000,
    healthCheckInterval: 1,
    maxCacheItems: 0,
    ...overrides,
  })
  cleanup.unshift(() => proxy.stop())
  await proxy.cacheReady
  return proxy
}

const callsOf = (server: ScriptedUpstream, method: string) =>
  server.hits.filter((hit) => hit.body?.method === method).length
const providersOf = async (proxy: TestProxy) => (await proxy.call('edb_providers')).result

describe('provider intelligence', () => {
  test('default', async () => {
    const one = upstream(() => '0x10')
    const proxy = await proxyFor([one.url])
    expect(await proxy.call('eth_gasPrice', [], 1)).toEqual({ jsonrpc: '2.0', id: 1, result: '0x10' })
  })

  test('behavior: a 429 storm on one of two providers: every call succeeds, the limited one is paced, never struck', async () => {
    const limited = upstream(() => new Response('slow down', { status: 429 }))
    const good = upstream(() => '0x2')
    const proxy = await proxyFor([limited.url, good.url], { healthCheckInterval: 3_600 })
    for (let id = 0; id < 40; id++) expect((await proxy.call('eth_gasPrice', [], id)).result).toBe('0x2')
    // Its first 429 cut its learned budget and paused it: the one with room is asked first from then on.
    expect(callsOf(limited, 'eth_gasPrice')).toBeLessThanOrEqual(3)
    expect(callsOf(good, 'eth_gasPrice')).toBe(40)
    const limitedView = (await providersOf(proxy)).providers.find(
      (entry: any) => entry.url === limited.url.replace(/\/$/, ''),
    )
    // SPEC §6: a 429 is never a strike. It is known by its budget instead.
    expect(limitedView).toMatchObject({ is_healthy: true, state: 'closed', budget: { rps: 1 } })
  })

  test('behavior: a hanging provider is hedged: the call is answered by the next one well before the timeout', async () => {
    const hang = upstream(async (call) => {
      if (call.method === 'eth_getBalance') await Bun.sleep(10_000)
      return '0x0'
    })
    const good = upstream(() => '0xbeef')
    const proxy = await proxyFor([hang.url, good.url], { upstreamTimeoutMs: 8_000 })
    // the order is weighted-random: call until the hanging provider has been asked first at least once
    let calls = 0
    while (calls < 40 && callsOf(hang, 'eth_getBalance') === 0) {
      const startedAt = performance.now()
      expect((await proxy.call('eth_getBalance', ['0x01', 'latest'], calls)).result).toBe('0xbeef')
      // without hedging a call sent to the hanging provider first would take the 8 s attempt timeout
      expect(performance.now() - startedAt).toBeLessThan(4_000)
      calls++
    }
    expect(callsOf(hang, 'eth_getBalance')).toBeGreaterThan(0)
    expect(callsOf(good, 'eth_getBalance')).toBe(calls)
  })

  test('behavior: a revert from anvil through one provider costs exactly one upstream call; the provider stays healthy', async () => {
    const anvil = await startAnvil()
    cleanup.push(() => anvil.stop())
    const contract = '0x00000000000000000000000000000000000000aa'
    await rpc(anvil.url, 'anvil_setCode', [contract, '0x60006000fd'])
    let calls = 0
    const counting = startScriptedUpstream(async (call) => {
      if (call.method === 'eth_call') calls++
      const answer = await fetch(anvil.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(call),
      })
      return new Response(await answer.text(), { headers: { 'content-type': 'application/json' } })
    })
    cleanup.push(() => counting.stop())
    const proxy = await proxyFor([counting.url])
    const reply = await proxy.call('eth_call', [{ to: contract, data: '0x' }, 'latest'], 'r')
    expect(reply).toEqual(await rpc(anvil.url, 'eth_call', [{ to: contract, data: '0x' }, 'latest'], 'r'))
    expect(reply.error.message).toContain('revert')
    expect(calls).toBe(1)
    expect((await providersOf(proxy)).providers[0]).toMatchObject({ is_healthy: true, consecutive_failures: 0 })
  })

  test('behavior: three providers giving the same unknown error: that error is the answer, each asked once', async () => {
    const same = [0, 1, 2, 3].map(() => upstream((call) => rpcErrorResponse(call, -32000, 'something odd happened')))
    const proxy = await proxyFor(same.map((server) => server.url))
    expect(await proxy.call('eth_getBalance', ['0x01', 'latest'], 'u')).toEqual({
      jsonrpc: '2.0',
      id: 'u',
      error: { code: -32000, message: 'something odd happened' },
    })
    const asked = same.map((server) => callsOf(server, 'eth_getBalance'))
    expect(asked.reduce((sum, n) => sum + n, 0)).toBe(3)
    expect(Math.max(...asked)).toBe(1)
  })

  test('behavior: all providers down: a JSON-RPC error listing the attempts, within the bound', async () => {
    const down = [0, 1].map(() => upstream(() => new Response('down', { status: 502 })))
    const proxy = await proxyFor(
      down.map((server) => server.url),
      { upstreamTimeoutMs: 1_000 },
    )
    const startedAt = performance.now()
    const reply = await proxy.call('eth_gasPrice', [], 1)
    expect(performance.now() - startedAt).toBeLessThan(3 * 1_000)
    expect(reply.error.code).toBe(-32002)
    expect(reply.error.data.attempts.map((attempt: any) => attempt.failure)).toEqual(['http-status', 'http-status'])
  })

  test('behavior: the breaker opens after failures and a health check brings the recovered provider back', async () => {
    let failing = true
    const flaky = upstream(() => (failing ? new Response('down', { status: 503 }) : '0x5'))
    const proxy = await proxyFor([flaky.url], { maxFailures: 2 })
    for (let id = 0; id < 2; id++) expect((await proxy.call('eth_gasPrice', [], id)).error.code).toBe(-32002)
    // The client's two calls and the head tracker's own: at least maxFailures in a row.
    const opened = (await providersOf(proxy)).providers[0]
    expect(opened).toMatchObject({ is_healthy: false, state: 'open' })
    expect(opened.consecutive_failures).toBeGreaterThanOrEqual(2)
    failing = false
    await waitFor(
      async () => (await providersOf(proxy)).providers[0].state === 'closed',
      'a health check to close the circuit',
      10_000,
    )
    expect((await providersOf(proxy)).providers[0]).toMatchObject({ is_healthy: true, consecutive_failures: 0 })
    expect((await proxy.call('eth_gasPrice', [], 9)).result).toBe('0x5')
  })

  test('behavior: a provider that starts answering another chain id is quarantined and no longer used', async () => {
    let chain = '0x1'
    const switching = upstream(
      () => '0xaaaa',
      () => chain,
    )
    const steady = upstream(() => '0xbbbb')
    const proxy = await proxyFor([switching.url, steady.url])
    chain = '0x89'
    await waitFor(
      async () => (await providersOf(proxy)).providers.some((entry: any) => entry.state === 'quarantined'),
      'the quarantine',
      10_000,
    )
    const before = callsOf(switching, 'eth_gasPrice')
    for (let id = 0; id < 10; id++) expect((await proxy.call('eth_gasPrice', [], id)).result).toBe('0xbbbb')
    expect(callsOf(switching, 'eth_gasPrice')).toBe(before)
    const view = await providersOf(proxy)
    expect(view.healthy_count).toBe(1)
  })

  test('behavior: eth_sendRawTransaction is not hedged; "already known" after a failed attempt is success with the hash', async () => {
    const raw = '0x02f86c0180843b9aca00847735940082520894000000000000000000000000000000000000000080c0'
    const sends: string[] = []
    const timesOut = upstream(async (call) => {
      if (call.method !== 'eth_sendRawTransaction') return '0x0'
      sends.push('first')
      await Bun.sleep(5_000)
      return '0x0'
    })
    const knows = upstream((call) => {
      if (call.method !== 'eth_sendRawTransaction') return '0x0'
      sends.push('second')
      return rpcErrorResponse(call, -32000, 'already known')
    })
    const proxy = await proxyFor([timesOut.url, knows.url], { upstreamTimeoutMs: 400 })
    for (let id = 0; id < 20 && !sends.includes('first'); id++) {
      sends.length = 0
      const reply = await proxy.call('eth_sendRawTransaction', [raw], id)
      if (sends[0] === 'first') expect(reply.result).toBe(keccak256(raw))
      else expect(reply.error).toEqual({ code: -32000, message: 'already known' })
    }
    // the timing-out provider was asked first at least once, and only then the second: one at a time
    expect(sends).toEqual(['first', 'second'])
  })

  test('behavior: edb_providers and edb_provider_metrics keep the types the debugger parses', async () => {
    const one = upstream(() => '0x1')
    const proxy = await proxyFor([`${one.url}v3/0123456789abcdef0123456789abcdef`])
    for (let id = 0; id < 3; id++) await proxy.call('eth_gasPrice', [], id)
    const providers = await providersOf(proxy)
    expect(providers).toEqual({
      providers: [
        {
          url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/<#[0-9a-f]{8}>$/),
          is_healthy: true,
          last_health_check_seconds_ago: providers.providers[0]?.last_health_check_seconds_ago ?? null,
          response_time_ms: expect.any(Number),
          consecutive_failures: 0,
          state: 'closed',
          // An extra field (SPEC §6): the budget (none set here) and what was sent over the last second.
          budget: {
            rps: null,
            configured: false,
            spent_last_second: expect.any(Number),
            waited_calls: 0,
            waited_ms: 0,
            rate_limits: 0,
          },
          history: { capabilities: 'not-served' },
          methods_refused: [],
        },
      ],
      healthy_count: 1,
      total_count: 1,
    })
    expect(Number.isInteger(providers.providers[0].response_time_ms)).toBe(true)
    expect([null, 0, 1]).toContain(providers.providers[0].last_health_check_seconds_ago)
    const metrics = (await proxy.call('edb_provider_metrics')).result
    expect(metrics).toEqual({
      providers: [
        {
          url: providers.providers[0].url,
          // The three client calls, and the head tracker's own (SPEC §5.1: it learns head and finality).
          request_count: expect.any(Number),
          success_rate: '100.0%',
          avg_response_time_ms: expect.any(Number),
          load_percentage: '100.0%',
          last_used_timestamp: expect.any(Number),
          error_count: 0,
        },
      ],
    })
    expect(metrics.providers[0].request_count).toBeGreaterThanOrEqual(3)
    expect(Math.abs(metrics.providers[0].last_used_timestamp - Date.now() / 1000)).toBeLessThan(5)
  })
})
