import { afterEach, describe, expect, test } from 'bun:test'
import { createHealthChecker } from '../../src/providers/health-check.ts'
import { createProvider } from '../../src/providers/provider.ts'
import { rpcErrorResponse, type ScriptedUpstream, startScriptedUpstream } from '../helpers/upstream.ts'

const breaker = { maxFailures: 3, baseCooldownMs: 1_000, maxCooldownMs: 4_000 }
const cleanup: ScriptedUpstream[] = []
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()!.stop()
})

function checkerFor(chainAnswer: (call: any) => unknown) {
  const node = startScriptedUpstream((call) => (call.method === 'eth_chainId' ? chainAnswer(call) : '0x64'))
  cleanup.push(node)
  const provider = createProvider(node.url, breaker)
  const heads: number[] = []
  const checker = createHealthChecker({
    providers: [provider],
    intervalMs: 60_000,
    timeoutMs: 1_000,
    breaker,
    chainId: () => 1,
    onQuarantine: () => {},
    onRecovered: () => {},
    onCircuitOpen: () => {},
    onHead: (block) => heads.push(block),
  })
  return { provider, checker, heads }
}

describe('health check', () => {
  test('default', async () => {
    const { provider, checker, heads } = checkerFor(() => '0x01')
    await checker.checkNow()
    expect([provider.quarantined, provider.breaker.state, heads]).toEqual([false, 'closed', [100]])
  })

  test('behavior: a quarantined provider whose chain id comes back as an error stays quarantined and reports no head', async () => {
    const { provider, checker, heads } = checkerFor((call) => rpcErrorResponse(call, -32005, 'rate limited'))
    provider.quarantined = true
    await checker.checkNow()
    expect([provider.quarantined, heads]).toEqual([true, []])
  })

  test('behavior: another chain quarantines', async () => {
    const { provider, checker, heads } = checkerFor(() => '0x89')
    await checker.checkNow()
    expect([provider.quarantined, heads]).toEqual([true, []])
  })
})
