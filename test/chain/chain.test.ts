import { afterEach, describe, expect, test } from 'bun:test'
import { createChain } from '../../src/chain/chain.ts'
import { createProvider } from '../../src/providers/provider.ts'
import type { Outcome } from '../../src/rpc/types.ts'
import { type ScriptedUpstream, startScriptedUpstream } from '../helpers/upstream.ts'
import { waitFor } from '../helpers/wait.ts'

const breaker = { maxFailures: 3, baseCooldownMs: 1_000, maxCooldownMs: 4_000 }
const cleanup: ScriptedUpstream[] = []
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()!.stop()
})

function chainFor(url: string | string[], send: () => Promise<Outcome> = async () => ({ resultJson: '"0x10"' })) {
  const silent: string[] = []
  const chain = createChain({
    providers: (Array.isArray(url) ? url : [url]).map((each) => createProvider(each, breaker)),
    send,
    chainId: undefined,
    devChain: 'auto',
    finalityDepth: 64,
    detectionTimeoutMs: 500,
    maxDetectionPauseMs: 60_000,
    idleRefreshMs: 60_000,
    onSilent: (provider) => silent.push(provider.label),
    onReset: () => {},
    warn: () => {},
  })
  return { chain, silent }
}

describe('chain', () => {
  test('default', async () => {
    const node = startScriptedUpstream((call) => (call.method === 'eth_chainId' ? '0x01' : 'geth/v1'))
    cleanup.push(node)
    const { chain } = chainFor(node.url)
    chain.start()
    expect(await chain.known).toEqual({ chainId: 1, devChain: false })
    chain.stop()
  })

  test('behavior: any provider naming a development client makes a dev chain', async () => {
    const node = startScriptedUpstream((call) => (call.method === 'eth_chainId' ? '0x1' : 'anvil/v1.7.1'))
    cleanup.push(node)
    const { chain } = chainFor(node.url)
    chain.start()
    expect(await chain.known).toEqual({ chainId: 1, devChain: true })
    chain.stop()
  })

  test('behavior: a real node and an anvil on one chain id: every provider is asked, and the chain is a dev chain', async () => {
    for (let start = 0; start < 6; start++) {
      const real = startScriptedUpstream((call) => (call.method === 'eth_chainId' ? '0x1' : 'Geth/v1.14.0'))
      const anvil = startScriptedUpstream((call) => (call.method === 'eth_chainId' ? '0x1' : 'anvil/v1.7.1'))
      cleanup.push(real, anvil)
      const { chain } = chainFor([real.url, anvil.url])
      chain.start()
      expect(await chain.known).toEqual({ chainId: 1, devChain: true })
      chain.stop()
      for (const node of [real, anvil])
        expect(node.hits.some((hit) => hit.body?.method === 'web3_clientVersion')).toBe(true)
    }
  })

  test('behavior: stopped while no provider answers, detection ends at once instead of after its pause', async () => {
    const mute = startScriptedUpstream(() => new Response('down', { status: 503 }))
    cleanup.push(mute)
    const { chain, silent } = chainFor(mute.url)
    chain.start()
    await waitFor(() => silent.length === 1, 'the first detection round')
    const asked = mute.hits.length
    chain.stop()
    await expect(chain.known).rejects.toThrow('stopped before any upstream answered eth_chainId')
    // No second round after the stop: the pause was cut short and nothing more was asked.
    expect([asked, mute.hits.length]).toEqual([2, 2])
  })
})
