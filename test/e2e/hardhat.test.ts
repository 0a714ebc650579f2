import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Anvil, rpc, startAnvil } from '../helpers/anvil.ts'
import {
  type HardhatProject,
  importReadFork,
  runForkTest,
  startHardhatNode,
  writeHardhatProject,
} from '../helpers/hardhat.ts'
import { type LatencyForwarder, startLatencyForwarder } from '../helpers/latency-forwarder.ts'
import { startProxy, type TestProxy } from '../helpers/proxy.ts'
import { seedWorkload, type Workload } from '../helpers/workload.ts'

/**
 * Hardhat 3 through the proxy, as a user runs it: a mocha test forking (`forking` config, block
 * pinned) a stand-in for a remote provider (anvil behind a forwarder), and `hardhat node --fork`.
 * What the fork reads equals anvil's own answers at that block; a warm run asks the provider
 * nothing about the fork's state; a client token in the fork URL's user-info or in
 * `forking.httpHeaders` gets through a proxy that requires one.
 */
let anvil: Anvil
let provider: LatencyForwarder
let proxy: TestProxy
let workload: Workload
let project: HardhatProject
/** anvil's own answers at the seeded block. */
let expected: unknown
const TOKEN = 'hardhat-client-token'

/** The proxy's own head tracking (once a second while calls flow) is not counted against a run (SPEC §10). */
const HEAD_TRACKING = new Set(['eth_blockNumber []', 'eth_getBlockByNumber ["finalized",false]'])
const clientCalls = () => provider.calls().filter((line) => !HEAD_TRACKING.has(line))

beforeAll(async () => {
  anvil = await startAnvil()
  workload = await seedWorkload(anvil.url, mkdtempSync(join(tmpdir(), 'edb-hardhat-')))
  provider = startLatencyForwarder(anvil.url, 0)
  proxy = await startProxy({ rpcUrls: [provider.url], devChain: 'no' })
  await proxy.cacheReady
  await proxy.refreshChain()
  project = writeHardhatProject(mkdtempSync(join(tmpdir(), 'edb-hardhat-project-')))
  const { readFork } = await importReadFork(project)
  const block = `0x${workload.block.toString(16)}`
  // anvil read at the seeded block: what a fork pinned there must see as its latest.
  const atBlock = async (method: string, params: unknown[]) => {
    const pinned = params.map((param) => (param === 'latest' ? block : param))
    return (await rpc(anvil.url, method, pinned)).result
  }
  expected = await readFork(atBlock, workload.store)
}, 30_000)
afterAll(async () => {
  await proxy.stop()
  await provider.stop()
  await anvil.stop()
})

const passed = (run: { code: number; output: string }) => {
  if (run.code !== 0 || !run.output.includes('1 passing'))
    throw new Error(`the Hardhat fork test did not pass:\n${run.output}`)
}

describe('Hardhat through the proxy', () => {
  test('default: a forking test pinned to a final block reads what anvil holds there; warm, only answers about now go upstream', async () => {
    provider.reset()
    const cold = await runForkTest(project, workload, proxy.url)
    passed(cold)
    expect(cold.answers).toEqual(expected)
    expect(clientCalls().length).toBeGreaterThan(0)

    provider.reset()
    const warm = await runForkTest(project, workload, proxy.url)
    passed(warm)
    expect(warm.answers).toEqual(expected)
    // Only "now" goes upstream: the fee history Hardhat asks at the remote's latest to price the transaction, and its own
    // eth_blockNumber (counted with the head tracking's). Measured: 2-4 calls in all.
    expect(clientCalls()).toEqual(['eth_feeHistory ["0x1","latest",[50]]'])
    expect(provider.calls().length).toBeLessThanOrEqual(8)
  }, 20_000)

  test('behavior: hardhat node --fork at the pinned block answers reads over JSON-RPC as anvil does, from the warm cache', async () => {
    const { readFork } = await importReadFork(project)
    provider.reset()
    const node = await startHardhatNode(project, workload, proxy.url)
    try {
      const read = async (method: string, params: unknown[]) => (await rpc(node.url, method, params)).result
      expect(await readFork(read, workload.store)).toEqual(expected)
    } finally {
      await node.stop()
    }
    expect(clientCalls()).toEqual([])
  }, 20_000)
})

describe('Hardhat with a client token', () => {
  let guarded: TestProxy
  let host: string
  beforeAll(async () => {
    guarded = await startProxy({ rpcUrls: [anvil.url], devChain: 'no', authToken: TOKEN })
    await guarded.cacheReady
    host = guarded.url.replace(/^http:\/\//, '')
  })
  afterAll(() => guarded.stop())

  test('behavior: without the token the fork is refused', async () => {
    const run = await runForkTest(project, workload, guarded.url)
    expect(run.code).not.toBe(0)
    expect(run.answers).toBeUndefined()
  }, 20_000)

  test('behavior: the token in forking.httpHeaders (Authorization: Bearer) gets through', async () => {
    const run = await runForkTest(project, workload, guarded.url, TOKEN)
    passed(run)
    expect(run.answers).toEqual(expected)
  }, 20_000)

  test("behavior: the token as the fork URL's password (sent as HTTP Basic auth) gets through", async () => {
    const run = await runForkTest(project, workload, `http://hardhat:${TOKEN}@${host}`)
    passed(run)
    expect(run.answers).toEqual(expected)
  }, 20_000)
})
