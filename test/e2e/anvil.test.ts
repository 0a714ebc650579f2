import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { createPublicClient, http } from 'viem'
import { type Anvil, rpc, startAnvil } from '../helpers/anvil.ts'
import { startProxy, type TestProxy } from '../helpers/proxy.ts'

const DEV = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266'
const OTHER = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8'
const CONTRACT = '0x00000000000000000000000000000000000C0DE5'
const CAST = join(import.meta.dir, '../../node_modules/.bin/cast')

let anvil: Anvil
let proxy: TestProxy
let txHash: string

beforeAll(async () => {
  anvil = await startAnvil()
  proxy = await startProxy({ rpcUrls: [anvil.url] })
  // History for the debugger's calls: a transfer in block 1, code and storage from block 2 on.
  txHash = (await proxy.call('eth_sendTransaction', [{ from: DEV, to: OTHER, value: '0xde0b6b3a7640000' }])).result
  await rpc(anvil.url, 'anvil_setCode', [CONTRACT, '0x602a60005260206000f3'])
  await rpc(anvil.url, 'anvil_setStorageAt', [CONTRACT, '0x0', `0x${'07'.padStart(64, '0')}`])
  await rpc(anvil.url, 'evm_mine')
})
afterAll(async () => {
  await proxy.stop()
  await anvil.stop()
})

/** The calls a debugger sends (SPEC §1), at explicit historical blocks. */
const debuggerCalls = (): [string, unknown[]][] => [
  ['eth_chainId', []],
  ['net_version', []],
  ['eth_blockNumber', []],
  ['eth_getBlockByNumber', ['0x1', false]],
  ['eth_getBlockByNumber', ['0x1', true]],
  ['eth_getBalance', [DEV, '0x0']],
  ['eth_getBalance', [OTHER, '0x1']],
  ['eth_getTransactionCount', [DEV, '0x1']],
  ['eth_getCode', [CONTRACT, '0x2']],
  ['eth_getStorageAt', [CONTRACT, '0x0', '0x2']],
  ['eth_getTransactionByHash', [txHash]],
  ['eth_getTransactionReceipt', [txHash]],
  ['eth_call', [{ to: CONTRACT, data: '0x' }, '0x2']],
  ['eth_getBlockByNumber', ['0x99', false]],
  ['eth_getBalance', ['not-an-address', '0x1']],
]

describe('through the proxy against anvil', () => {
  test('default', async () => {
    expect(await proxy.call('eth_chainId', [], 'c')).toEqual({ jsonrpc: '2.0', id: 'c', result: '0x7a69' })
  })

  test("behavior: each debugger call answers exactly what anvil answers, with the caller's id", async () => {
    for (const [index, [method, params]] of debuggerCalls().entries()) {
      const direct = await rpc(anvil.url, method, params, index)
      expect({ method, reply: await proxy.call(method, params, index) }).toEqual({ method, reply: direct })
    }
  })

  test('behavior: the same calls batched answer what anvil answers one by one, in order', async () => {
    const calls = debuggerCalls()
    const expected = []
    for (const [index, [method, params]] of calls.entries())
      expected.push(await rpc(anvil.url, method, params, `b${index}`))
    const reply = await proxy.post(
      calls.map(([method, params], index) => ({ jsonrpc: '2.0', id: `b${index}`, method, params })),
    )
    expect(reply.json).toEqual(expected)
  })

  test('behavior: viem reads the same values through the proxy as from anvil', async () => {
    const viaProxy = createPublicClient({ transport: http(proxy.url) })
    const direct = createPublicClient({ transport: http(anvil.url) })
    const read = async (client: typeof direct) => ({
      chainId: await client.getChainId(),
      block: await client.getBlock({ blockNumber: 1n }),
      balance: await client.getBalance({ address: OTHER, blockNumber: 1n }),
      code: await client.getCode({ address: CONTRACT, blockNumber: 2n }),
      storage: await client.getStorageAt({ address: CONTRACT, slot: '0x0', blockNumber: 2n }),
      receipt: await client.getTransactionReceipt({ hash: txHash as `0x${string}` }),
    })
    expect(await read(viaProxy)).toEqual(await read(direct))
  })

  test('behavior: cast reads the same values through the proxy as from anvil', async () => {
    const cast = async (url: string, args: string[]) => {
      const child = Bun.spawn([CAST, ...args, '--rpc-url', url], { stdout: 'pipe', stderr: 'pipe' })
      const [out, code] = [await new Response(child.stdout).text(), await child.exited]
      expect(code).toBe(0)
      return out.trim()
    }
    for (const args of [
      ['chain-id'],
      ['balance', OTHER, '--block', '1'],
      ['code', CONTRACT, '--block', '2'],
      ['storage', CONTRACT, '0', '--block', '2'],
      ['receipt', txHash, 'status'],
    ]) {
      expect(await cast(proxy.url, args)).toBe(await cast(anvil.url, args))
    }
  })
})
