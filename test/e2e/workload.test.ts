import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { JsonRpcProvider } from 'ethers'
import { createPublicClient, getAddress, http, parseAbi } from 'viem'
import { type Anvil, startAnvil } from '../helpers/anvil.ts'
import { type LatencyForwarder, startLatencyForwarder } from '../helpers/latency-forwarder.ts'
import { startProxy, type TestProxy } from '../helpers/proxy.ts'
import { buildForgeProject, seedWorkload, WORKLOAD_RUNS, type Workload } from '../helpers/workload.ts'

/**
 * The debugger's workload end to end (SPEC §10): the real tools, against a stand-in for a remote
 * provider (anvil behind a forwarder without anvil_ methods; no added latency: timings are the
 * benchmark's), through the proxy cold, warm and after a restart, each compared with the run made
 * straight to the provider.
 */
let anvil: Anvil
let provider: LatencyForwarder
let proxy: TestProxy
let workload: Workload
const cacheDir = mkdtempSync(join(tmpdir(), 'edb-workload-cache-'))
/** Each tool's output straight to the provider, by run name. */
const direct = new Map<string, string>()

/** What the proxy sent upstream for its clients: its own head tracking is not counted against a run (SPEC §10). */
const clientCalls = () =>
  provider
    .calls()
    .filter((line) => line !== 'eth_blockNumber []' && line !== 'eth_getBlockByNumber ["finalized",false]')

const start = async () => {
  // anvil stands in for a remote provider here: --dev-chain no caches it as a real chain.
  proxy = await startProxy({ rpcUrls: [provider.url], devChain: 'no', cacheDir })
  await proxy.cacheReady
  await proxy.refreshChain()
}

beforeAll(async () => {
  anvil = await startAnvil()
  workload = await seedWorkload(anvil.url, mkdtempSync(join(tmpdir(), 'edb-workload-')))
  await buildForgeProject(workload)
  provider = startLatencyForwarder(anvil.url, 0)
  await start()
}, 60_000)
afterAll(async () => {
  await proxy.stop()
  await provider.stop()
  await anvil.stop()
})

describe('Foundry through the proxy', () => {
  for (const [name, run] of Object.entries(WORKLOAD_RUNS)) {
    test(`behavior: ${name} prints what it prints straight to the provider; a second run asks upstream only for the gas price`, async () => {
      const straight = await run(workload, provider.url)
      direct.set(name, straight)
      expect(straight.length).toBeGreaterThan(0)
      provider.reset()
      expect(await run(workload, proxy.url)).toBe(straight)
      // Everything about the past was asked at most once in the cold run.
      const cold = clientCalls()
      expect(cold.length).toBeGreaterThan(0)
      expect(cold.length).toBe(new Set(cold).size)
      provider.reset()
      expect(await run(workload, proxy.url)).toBe(straight)
      // The gas price describes now; Foundry's anvil_nodeInfo probe is answered from what the provider said before.
      expect(clientCalls()).toEqual(['eth_gasPrice null'])
    }, 30_000)
  }

  test('behavior: after a restart every run is answered from disk: the same output, and only now-answers and the node probe go upstream', async () => {
    expect(direct.size).toBe(3)
    await proxy.stop()
    await start()
    for (const [name, run] of Object.entries(WORKLOAD_RUNS)) {
      provider.reset()
      expect(await run(workload, proxy.url)).toBe(direct.get(name) as string)
      expect(clientCalls().filter((line) => line !== 'eth_gasPrice null' && line !== 'anvil_nodeInfo null')).toEqual([])
    }
  }, 60_000)
})

const STORE_ABI = parseAbi([
  'function total() view returns (uint256)',
  'function byUser(address) view returns (uint256)',
])
const USER = getAddress('0x70997970c51812dc3a010c7d01b50e0d17dc79c8')

describe('JavaScript clients that batch', () => {
  test('behavior: an ethers JsonRpcProvider (batching by default) gets the direct answers; its batch goes upstream as batches; warm, nothing does', async () => {
    const reads = async (url: string) => {
      const client = new JsonRpcProvider(url, undefined, { staticNetwork: true, batchMaxCount: 50 })
      try {
        // A block after the Foundry runs' own: nothing of it is cached yet.
        const blockTag = workload.block + 1
        const [block, balance, nonce, code, slot, receipt, total] = await Promise.all([
          client.getBlock(blockTag),
          client.getBalance(USER, blockTag),
          client.getTransactionCount(USER, blockTag),
          client.getCode(workload.store, blockTag),
          client.getStorage(workload.store, 0, blockTag),
          client.getTransactionReceipt(workload.tx),
          client.call({ to: workload.store, data: '0x2ddbd13a', blockTag }),
        ])
        return JSON.stringify({
          block: block?.toJSON(),
          balance: String(balance),
          nonce,
          code,
          slot,
          receipt: receipt?.toJSON(),
          total,
        })
      } finally {
        client.destroy()
      }
    }
    const straight = await reads(provider.url)
    provider.reset()
    expect(await reads(proxy.url)).toBe(straight)
    const cold = clientCalls()
    expect(cold.length).toBeGreaterThanOrEqual(7)
    // ethers sent one batch; the proxy's misses went upstream together, not one by one.
    expect(provider.batches()).toBeGreaterThanOrEqual(1)
    provider.reset()
    expect(await reads(proxy.url)).toBe(straight)
    expect(clientCalls()).toEqual([])
  })

  test('behavior: viem with batch: true gets the direct answers; warm, nothing goes upstream', async () => {
    const reads = async (url: string) => {
      const client = createPublicClient({ transport: http(url, { batch: true }) })
      const blockNumber = BigInt(workload.block + 2)
      const results = await Promise.all([
        client.getBlock({ blockNumber }),
        client.getBalance({ address: USER, blockNumber }),
        client.getTransactionCount({ address: USER, blockNumber }),
        client.getCode({ address: workload.store as `0x${string}`, blockNumber }),
        client.getStorageAt({ address: workload.store as `0x${string}`, slot: '0x0', blockNumber }),
        client.getTransactionReceipt({ hash: workload.tx as `0x${string}` }),
        client.readContract({
          address: workload.store as `0x${string}`,
          abi: STORE_ABI,
          functionName: 'total',
          blockNumber,
        }),
        client.readContract({
          address: workload.store as `0x${string}`,
          abi: STORE_ABI,
          functionName: 'byUser',
          args: [USER],
          blockNumber,
        }),
      ])
      return JSON.stringify(results, (_, value) => (typeof value === 'bigint' ? `${value}n` : value))
    }
    const straight = await reads(provider.url)
    provider.reset()
    expect(await reads(proxy.url)).toBe(straight)
    expect(provider.batches()).toBeGreaterThanOrEqual(1)
    provider.reset()
    expect(await reads(proxy.url)).toBe(straight)
    expect(clientCalls()).toEqual([])
  })
})
