import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { type Anvil, rpc, startAnvil } from './helpers/anvil.ts'
import { type CountingForwarder, startCountingForwarder } from './helpers/counting.ts'
import { startProxy, type TestProxy } from './helpers/proxy.ts'
import { waitFor } from './helpers/wait.ts'

const CAST = join(import.meta.dir, '../node_modules/.bin/cast')
const DEV = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266'
/** Init code of a contract that stores its first calldata word in slot 0 and returns 1. */
const INIT = '0x600b600c600039600b6000f360003560005560016000f3'

let anvil: Anvil
let counter: CountingForwarder
let proxy: TestProxy
let contract: string
let tx: string

/** What the proxy sent upstream for its clients: the head tracker's own calls are not counted against a run (SPEC §10). */
const clientCalls = () => counter.log().filter((line) => line !== 'eth_blockNumber []' && line !== 'eth_getBlockByNumber ["finalized",false]')

const receipt = (hash: string) => waitFor(async () => (await rpc(anvil.url, 'eth_getTransactionReceipt', [hash])).result, 'the receipt')

beforeAll(async () => {
  anvil = await startAnvil()
  counter = startCountingForwarder(anvil.url)
  // anvil stands in for a remote provider here: --dev-chain no caches it as a real chain.
  proxy = await startProxy({ rpcUrls: [counter.url], devChain: 'no' })
  await proxy.cacheReady
  contract = (await receipt((await rpc(anvil.url, 'eth_sendTransaction', [{ from: DEV, data: INIT }])).result)).contractAddress
  tx = (await rpc(anvil.url, 'eth_sendTransaction', [{ from: DEV, to: contract, data: `0x${'11'.repeat(32)}` }])).result
  await receipt(tx)
  // anvil's finalized block is head - 64: mine past it so the transaction's block is final.
  await rpc(anvil.url, 'anvil_mine', ['0x50'])
  await proxy.refreshChain()
}, 60_000)
afterAll(async () => {
  await proxy.stop()
  await counter.stop()
  await anvil.stop()
})

async function castRun(): Promise<string> {
  const child = Bun.spawn([CAST, 'run', tx, '--rpc-url', proxy.url], { stdout: 'pipe', stderr: 'pipe' })
  const [code, out, err] = await Promise.all([child.exited, new Response(child.stdout).text(), new Response(child.stderr).text()])
  expect({ code, err: code === 0 ? '' : err }).toEqual({ code: 0, err: '' })
  return out
}

describe('Foundry through the proxy', () => {
  test('behavior: cast run replays a historical transaction; the second run asks upstream only what describes now', async () => {
    counter.reset()
    const first = await castRun()
    expect(first).toContain('Transaction successfully executed')
    const firstCalls = clientCalls()
    // Everything about the past was asked once: no call repeats within the run.
    expect(firstCalls.length).toBe(new Set(firstCalls).size)
    expect(firstCalls).toContain(`eth_getTransactionByHash ["${tx}"]`)
    // Foundry asks an account as eth_getAccountInfo or as balance, nonce and code, from run to run: either form answers the other.
    counter.reset()
    expect(await castRun()).toBe(first)
    // eth_gasPrice describes now; anvil_nodeInfo is cast asking which node this is (never cached: not chain data).
    expect(clientCalls().sort()).toEqual(['anvil_nodeInfo null', 'eth_gasPrice null'])
  })

  test('behavior: a second anvil --fork-url session at a final block asks upstream only for the gas price', async () => {
    const session = async () => {
      const fork = await startAnvil(['--fork-url', proxy.url, '--fork-block-number', '10'])
      try {
        return [
          (await rpc(fork.url, 'eth_getBalance', [DEV, 'latest'])).result,
          (await rpc(fork.url, 'eth_getCode', [contract, 'latest'])).result,
          (await rpc(fork.url, 'eth_getStorageAt', [contract, '0x0', 'latest'])).result,
          (await rpc(fork.url, 'eth_call', [{ to: contract, data: '0x' }, 'latest'])).result,
        ]
      } finally {
        await fork.stop()
      }
    }
    counter.reset()
    const first = await session()
    expect(first[1]).toBe('0x60003560005560016000f3')
    expect(first[2]).toBe(`0x${'11'.repeat(32)}`)
    const firstCalls = clientCalls()
    expect(firstCalls.length).toBeGreaterThan(0)
    counter.reset()
    expect(await session()).toEqual(first)
    expect(clientCalls().filter((line) => line !== 'eth_gasPrice null')).toEqual([])
  })
})
