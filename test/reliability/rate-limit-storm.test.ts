import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { startProxy, type TestProxy } from '../helpers/proxy.ts'
import { type ScriptedUpstream, startScriptedUpstream } from '../helpers/upstream.ts'

let limited: ScriptedUpstream
let good: ScriptedUpstream
let proxy: TestProxy

beforeAll(async () => {
  let served = 0
  // answers its first calls, then rate-limits everything, as a public endpoint does under load
  limited = startScriptedUpstream((call) => {
    if (call?.method !== 'eth_gasPrice') return '0x1'
    return served++ < 20 ? '0x1' : new Response('Too Many Requests', { status: 429 })
  })
  good = startScriptedUpstream((call) => (call?.method === 'eth_chainId' ? '0x1' : '0x1'))
  proxy = await startProxy({ rpcUrls: [limited.url, good.url], devChain: 'no', healthCheckInterval: 3_600 })
  await proxy.cacheReady
})
afterAll(async () => {
  await proxy.stop()
  await limited.stop()
  await good.stop()
})

describe('rate-limit storm under load', () => {
  test('behavior: 2,000 concurrent-ish calls while one provider answers 429: zero client errors, the limited one is left alone', async () => {
    let errors = 0
    const worker = async (offset: number) => {
      for (let index = 0; index < 250; index++) {
        const reply = await proxy.call('eth_gasPrice', [], offset * 1_000 + index)
        if (reply.result !== '0x1') errors++
      }
    }
    await Promise.all(Array.from({ length: 8 }, (_, offset) => worker(offset)))
    expect(errors).toBe(0)
    const limitedCalls = limited.hits.filter((hit) => hit.body?.method === 'eth_gasPrice').length
    // 20 answered, then at most --max-failures (3) 429s plus a few in flight when the circuit opened
    expect(limitedCalls).toBeLessThan(20 + 3 + 8 + 1)
    expect((await proxy.call('edb_cache_metrics')).result.rate_limit_errors).toBe(limitedCalls - 20)
  })
})
