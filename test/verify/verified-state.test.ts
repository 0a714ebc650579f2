import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Anvil, rpc, startAnvil } from '../helpers/anvil.ts'
import { type Lie, startLyingNode } from '../helpers/lying-node.ts'
import { startProxy, type TestProxy } from '../helpers/proxy.ts'
import { startRedis } from '../helpers/redis.ts'
import { waitFor } from '../helpers/wait.ts'

/**
 * SPEC §15 against a real node: state answers at final blocks are proven with eth_getProof against
 * the block's checked state root before they are stored. A lying provider beside an honest one
 * never gets a wrong value served or stored, and is struck; a provider that cannot prove leaves
 * answers `x-verified: none`.
 */
const CONTRACT = `0x${'c0'.repeat(20)}`
const HOLDER = `0x${'b0'.repeat(20)}`
/** A final block holding the state below (anvil here finalizes 64 below the head with --dev-chain no). */
let block: string
let anvil: Anvil

beforeAll(async () => {
  anvil = await startAnvil()
  await rpc(anvil.url, 'anvil_setCode', [CONTRACT, '0x6001600055'])
  for (let slot = 0; slot < 8; slot++)
    await rpc(anvil.url, 'anvil_setStorageAt', [
      CONTRACT,
      `0x${slot.toString(16)}`,
      `0x${(slot + 1).toString(16).padStart(64, '0')}`,
    ])
  for (let index = 0; index < 8; index++)
    await rpc(anvil.url, 'anvil_setBalance', [
      `0x${'b0'.repeat(19)}${index.toString(16).padStart(2, '0')}`,
      `0x${(1000 + index).toString(16)}`,
    ])
  await rpc(anvil.url, 'anvil_mine', ['0x1'])
  block = (await rpc(anvil.url, 'eth_blockNumber')).result
  await rpc(anvil.url, 'anvil_mine', ['0x80'])
})
afterAll(() => anvil.stop())

const holder = (index: number) => `0x${'b0'.repeat(19)}${index.toString(16).padStart(2, '0')}`
const slot = (index: number) => `0x${index.toString(16)}`

/** The reads a debugger makes, each distinct: balances of 8 accounts, 8 storage slots, code, nonce. */
const reads = (): [string, unknown[]][] => [
  ...Array.from({ length: 8 }, (_, index): [string, unknown[]] => ['eth_getBalance', [holder(index), block]]),
  ...Array.from({ length: 8 }, (_, index): [string, unknown[]] => ['eth_getStorageAt', [CONTRACT, slot(index), block]]),
  ['eth_getCode', [CONTRACT, block]],
  ['eth_getTransactionCount', [HOLDER, block]],
]

async function truth(method: string, params: unknown[]) {
  return (await rpc(anvil.url, method, params)).result
}

async function askAll(proxy: TestProxy) {
  const answers: { method: string; result: unknown; expected: unknown; verified: string | null }[] = []
  for (const [method, params] of reads()) {
    const { json, headers } = await proxy.post({ jsonrpc: '2.0', id: 1, method, params })
    answers.push({
      method,
      result: json.result,
      expected: await truth(method, params),
      verified: headers.get('x-verified'),
    })
  }
  return answers
}

describe('verified state (SPEC §15)', () => {
  test('default', async () => {
    await using proxy = await startProxy({ rpcUrls: [anvil.url], devChain: 'no' })
    await proxy.cacheReady
    const answers = await askAll(proxy)
    expect(answers.every((answer) => answer.result === answer.expected)).toBe(true)
    expect(answers.map((answer) => answer.verified)).toEqual(answers.map(() => 'proof'))
    // Hits say it too, and every entry stored is proven.
    const again = await askAll(proxy)
    expect(again.map((answer) => answer.verified)).toEqual(answers.map(() => 'proof'))
    const stats = (await proxy.call('edb_cache_stats')).result.verification
    expect(stats.share_verified).toBe('100.0%')
    expect(stats.methods.eth_getBalance).toEqual({ verified: 8, unverifiable: 0, failed: 0 })
  })

  for (const lie of ['storage', 'balance', 'proof-node', 'header-field'] as Lie[]) {
    test(`behavior: a provider that alters ${lie} beside an honest one: no wrong answer served or stored (across a restart); the liar struck; x-verified: proof`, async () => {
      const liar = startLyingNode(anvil.url, lie)
      const honest = startLyingNode(anvil.url, 'none')
      const cacheDir = mkdtempSync(join(tmpdir(), 'edb-verified-'))
      const options = { rpcUrls: [liar.url, honest.url], devChain: 'no' as const, cacheDir, healthCheckInterval: 3_600 }
      {
        await using proxy = await startProxy(options)
        await proxy.cacheReady
        // Blocks asked through the proxy are checked too (a header whose fields do not hash to it is a fault).
        for (let number = 1; number <= 6; number++)
          await proxy.call('eth_getBlockByNumber', [`0x${number.toString(16)}`, false])
        const answers = await askAll(proxy)
        expect(answers.filter((answer) => answer.result !== answer.expected)).toEqual([])
        expect(answers.map((answer) => answer.verified)).toEqual(answers.map(() => 'proof'))
        expect(liar.lied()).toBeGreaterThan(0)
        const view = (await proxy.call('edb_provider_metrics')).result.providers.find((entry: any) =>
          liar.url.startsWith(entry.url),
        )
        expect(view.error_count).toBeGreaterThan(0)
      }
      // The same cache directory, the honest node alone: what was stored is what the chain says.
      await using again = await startProxy({ ...options, rpcUrls: [honest.url] })
      await again.cacheReady
      const stored = await askAll(again)
      expect(stored.filter((answer) => answer.result !== answer.expected)).toEqual([])
      await liar.stop()
      await honest.stop()
    })
  }

  test('behavior: beside a provider without eth_getProof, proofs go to the one that serves it: every answer proven, no strike', async () => {
    const lacking = startLyingNode(anvil.url, 'none', { proofs: false })
    const proving = startLyingNode(anvil.url, 'none')
    await using proxy = await startProxy({ rpcUrls: [lacking.url, proving.url], devChain: 'no' })
    await proxy.cacheReady
    const answers = await askAll(proxy)
    expect(answers.filter((answer) => answer.result !== answer.expected)).toEqual([])
    expect(answers.map((answer) => answer.verified)).toEqual(answers.map(() => 'proof'))
    // Its -32601 is remembered: it is asked for a proof about once, and never struck for it (SPEC §6).
    expect(lacking.asked('eth_getProof')).toBeLessThanOrEqual(2)
    const view = (await proxy.call('edb_providers')).result.providers.find((entry: any) =>
      lacking.url.startsWith(entry.url),
    )
    expect(view).toMatchObject({ consecutive_failures: 0, methods_refused: ['eth_getProof'] })
    await lacking.stop()
    await proving.stop()
  })

  test('behavior: a provider that does not serve eth_getProof: x-verified none; required stores nothing; off asks no proof', async () => {
    const node = startLyingNode(anvil.url, 'none', { proofs: false })
    const [method, params] = ['eth_getBalance', [holder(1), block]] as const
    {
      await using proxy = await startProxy({ rpcUrls: [node.url], devChain: 'no' })
      await proxy.cacheReady
      const first = await proxy.post({ jsonrpc: '2.0', id: 1, method, params })
      expect([first.json.result, first.headers.get('x-verified')]).toEqual([await truth(method, [...params]), 'none'])
      // Kept locally (when-possible): a hit, still none.
      const hit = await proxy.post({ jsonrpc: '2.0', id: 1, method, params })
      expect([hit.headers.get('x-cache'), hit.headers.get('x-verified')]).toEqual(['HIT', 'none'])
      expect((await proxy.call('edb_cache_stats')).result.verification.methods.eth_getBalance.unverifiable).toBe(1)
    }
    {
      await using proxy = await startProxy({ rpcUrls: [node.url], devChain: 'no', verifyState: 'required' })
      await proxy.cacheReady
      const first = await proxy.post({ jsonrpc: '2.0', id: 1, method, params })
      const second = await proxy.post({ jsonrpc: '2.0', id: 1, method, params })
      expect([
        first.headers.get('x-verified'),
        second.headers.get('x-cache'),
        second.headers.get('x-verified'),
      ]).toEqual(['none', 'MISS', 'none'])
    }
    const proofsBefore = node.asked('eth_getProof')
    {
      await using proxy = await startProxy({ rpcUrls: [node.url], devChain: 'no', verifyState: 'off' })
      await proxy.cacheReady
      const first = await proxy.post({ jsonrpc: '2.0', id: 1, method: 'eth_getBalance', params: [holder(2), block] })
      expect([first.json.result, first.headers.get('x-verified')]).toEqual([
        await truth('eth_getBalance', [holder(2), block]),
        null,
      ])
    }
    expect(node.asked('eth_getProof')).toBe(proofsBefore)
    await node.stop()
  })

  test('behavior: with a Redis tier, unproven state never reaches Redis; proven state does', async () => {
    const redis = await startRedis()
    const client = redis.client()
    const stateKeys = async () => ((await client.send('KEYS', ['edb:*:eth_getBalance:*'])) as string[]).length
    const tierOf = async (proxy: TestProxy) => (await proxy.call('edb_cache_stats')).result.shared_cache
    const unproven = startLyingNode(anvil.url, 'none', { proofs: false })
    {
      await using proxy = await startProxy({ rpcUrls: [unproven.url], devChain: 'no', cacheUrl: redis.url })
      await waitFor(async () => (await tierOf(proxy))?.state === 'up', 'the shared tier up')
      for (let index = 0; index < 4; index++) await proxy.call('eth_getBalance', [holder(index), block])
      // A block answer goes to Redis as ever: the tier works, it is state alone that is held back.
      await proxy.call('eth_getBlockByNumber', ['0x2', false])
      await waitFor(async () => (await tierOf(proxy)).writes >= 1, 'the block written to Redis')
      expect(await stateKeys()).toBe(0)
    }
    {
      await using proxy = await startProxy({ rpcUrls: [anvil.url], devChain: 'no', cacheUrl: redis.url })
      await waitFor(async () => (await tierOf(proxy))?.state === 'up', 'the shared tier up')
      for (let index = 4; index < 8; index++) await proxy.call('eth_getBalance', [holder(index), block])
      await waitFor(async () => (await stateKeys()) === 4, 'the four proven balances written to Redis')
    }
    {
      // A proxy that does not prove shares under the plain keys; one that proves never takes those for proven.
      await using unverified = await startProxy({
        rpcUrls: [anvil.url],
        devChain: 'no',
        cacheUrl: redis.url,
        verifyState: 'off',
      })
      await waitFor(async () => (await tierOf(unverified))?.state === 'up', 'the shared tier up')
      await unverified.call('eth_getBalance', [holder(9), block])
      await waitFor(async () => (await stateKeys()) === 5, 'the unproven balance written under its plain key')
      await using proving = await startProxy({ rpcUrls: [anvil.url], devChain: 'no', cacheUrl: redis.url })
      await waitFor(async () => (await tierOf(proving))?.state === 'up', 'the shared tier up')
      const fromTeam = await proving.post({
        jsonrpc: '2.0',
        id: 1,
        method: 'eth_getBalance',
        params: [holder(5), block],
      })
      expect([fromTeam.headers.get('x-cache'), fromTeam.headers.get('x-verified')]).toEqual(['HIT', 'proof'])
      const plain = await proving.post({ jsonrpc: '2.0', id: 1, method: 'eth_getBalance', params: [holder(9), block] })
      expect([plain.headers.get('x-cache'), plain.headers.get('x-verified')]).toEqual(['MISS', 'proof'])
      // edb_deleteCache of one call reaches its proven key too.
      await waitFor(async () => (await stateKeys()) === 6, 'the proven balance of holder 9 written')
      const deleted = (await proving.call('edb_deleteCache', ['eth_getBalance', [holder(5), block]])).result
      expect(deleted.success).toBe(true)
      expect(await stateKeys()).toBe(5)
    }
    client.close()
    await unproven.stop()
    await redis.stop()
  })

  test('behavior: questions this reading cannot judge are answered unproven, never blamed on a provider: odd slots, a repeated address, a block by hash; eth_call carries no x-verified', async () => {
    await using proxy = await startProxy({ rpcUrls: [anvil.url], devChain: 'no' })
    await proxy.cacheReady
    const hash = (await rpc(anvil.url, 'eth_getBlockByNumber', [block, false])).result.hash
    const word = (n: number) => `0x${n.toString(16).padStart(64, '0')}`
    const upper = `0x${CONTRACT.slice(2).toUpperCase()}`
    const questions: [string, unknown[], string][] = [
      // A client's own proof, judged as it is.
      ['eth_getProof', [CONTRACT, [word(1)], block], 'proof'],
      // A block named by its hash: final, cached, but not provable by number here.
      ['eth_getBalance', [holder(3), hash], 'none'],
      // One account written in two cases: not judged.
      ['eth_getStorageValues', [{ [CONTRACT]: [word(1)], [upper]: [word(2)] }, block], 'none'],
    ]
    for (const [method, params, expected] of questions) {
      const answer = await proxy.post({ jsonrpc: '2.0', id: 1, method, params })
      expect({ method, error: answer.json.error, verified: answer.headers.get('x-verified') }).toEqual({
        method,
        error: undefined,
        verified: expected,
      })
    }
    const call = await proxy.post({ jsonrpc: '2.0', id: 1, method: 'eth_call', params: [{ to: CONTRACT }, block] })
    expect(call.headers.get('x-verified')).toBeNull()
    const again = await proxy.post({ jsonrpc: '2.0', id: 1, method: 'eth_call', params: [{ to: CONTRACT }, block] })
    expect([again.headers.get('x-cache'), again.headers.get('x-verified')]).toEqual(['HIT', null])
    const [listed] = (await proxy.call('edb_providers')).result.providers
    expect(listed.consecutive_failures).toBe(0)
  })

  test('behavior: an answer waiting for its slow proof is not hedged to another provider, nor counted as its latency', async () => {
    const nodes = [0, 1].map(() => startLyingNode(anvil.url, 'none', { proofDelayMs: 300 }))
    await using proxy = await startProxy({ rpcUrls: nodes.map((node) => node.url), devChain: 'no' })
    await proxy.cacheReady
    const answer = await proxy.post({ jsonrpc: '2.0', id: 1, method: 'eth_getBalance', params: [holder(6), block] })
    expect([answer.json.result, answer.headers.get('x-verified')]).toEqual([
      await truth('eth_getBalance', [holder(6), block]),
      'proof',
    ])
    // One provider asked for the balance: the 300 ms spent on the proof is not a slow answer.
    expect(nodes.reduce((sum, node) => sum + node.asked('eth_getBalance'), 0)).toBe(1)
    const latencies = (await proxy.call('edb_providers')).result.providers.map((entry: any) => entry.response_time_ms)
    expect(latencies.every((ms: number | null) => ms === null || ms < 250)).toBe(true)
    for (const node of nodes) await node.stop()
  })
})
