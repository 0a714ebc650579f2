import { afterEach, describe, expect, test } from 'bun:test'
import { WebSocketProvider } from 'ethers'
import { createPublicClient, keccak256, parseAbi, toHex, webSocket } from 'viem'
import { type Anvil, rpc, startAnvil } from '../helpers/anvil.ts'
import { EMITTER, emit, installEmitter } from '../helpers/emitter.ts'
import { startProxy, type TestProxy } from '../helpers/proxy.ts'
import { waitFor } from '../helpers/wait.ts'
import { connectWs } from '../helpers/ws-client.ts'
import { startWsForwarder, type WsForwarder } from '../helpers/ws-forwarder.ts'

const cleanup: (() => Promise<unknown> | unknown)[] = []
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()!()
})

const abi = parseAbi(['event Ping()'])
const PING = keccak256(toHex('Ping()'))

async function setUp(feeds = 0): Promise<{ anvil: Anvil; proxy: TestProxy; relays: WsForwarder[] }> {
  const anvil = await startAnvil()
  cleanup.push(() => anvil.stop())
  await installEmitter(anvil.url, PING)
  const relays = Array.from({ length: feeds }, () => {
    const relay = startWsForwarder(anvil.url)
    cleanup.push(() => relay.stop())
    return relay
  })
  const proxy = await startProxy({ rpcUrls: [anvil.url], wsUrls: relays.map((relay) => relay.url) })
  cleanup.push(() => proxy.stop())
  await proxy.cacheReady
  return { anvil, proxy, relays }
}

const ping = (anvil: Anvil) => emit(anvil.url)

function viemClient(proxy: TestProxy) {
  const client = createPublicClient({ transport: webSocket(proxy.url.replace('http', 'ws'), { retryCount: 0 }) })
  cleanup.unshift(async () => (await client.transport.getRpcClient()).close())
  return client
}

const consecutive = (values: number[]) =>
  values.every((value, index) => index === 0 || value === (values[index - 1] as number) + 1)

describe('real WebSocket clients through the proxy', () => {
  test('default', async () => {
    const { proxy } = await setUp()
    const client = viemClient(proxy)
    expect(await client.getChainId()).toBe(31337)
  })

  test('behavior: viem watchBlocks and watchContractEvent see every block and log exactly once while both upstream feeds are killed and restarted', async () => {
    const { anvil, proxy, relays } = await setUp(2)
    const client = viemClient(proxy)
    const blocks: number[] = []
    const logs: string[] = []
    const stopBlocks = client.watchBlocks({
      onBlock: (block) => void blocks.push(Number(block.number)),
      emitOnBegin: false,
    })
    const stopEvents = client.watchContractEvent({
      address: EMITTER,
      abi,
      eventName: 'Ping',
      onLogs: (found) => logs.push(...found.map((log) => log.transactionHash)),
    })
    cleanup.unshift(() => {
      stopBlocks()
      stopEvents()
    })
    await waitFor(async () => (await proxy.call('edb_streams')).result.subscriptions.logs === 1, 'the subscriptions')
    await waitFor(
      async () => (await proxy.call('edb_streams')).result.sources[0].sockets.some((socket: any) => socket.up),
      'a feed up',
    )
    const raw = await connectWs(proxy.url)
    cleanup.unshift(() => raw.close())
    const rawId = (await raw.call('eth_subscribe', ['newHeads'])).result
    const sent: string[] = []
    for (let round = 0; round < 10; round++) {
      const dropped = round % 3 === 2 ? relays : [relays[round % 2]!]
      const before = dropped.map((relay) => relay.accepted)
      for (const relay of dropped) relay.dropAll()
      sent.push(await ping(anvil))
      await rpc(anvil.url, 'anvil_mine', ['0x2'])
      await waitFor(() => dropped.every((relay, index) => relay.accepted > before[index]!), 'the feeds back')
    }
    const last = Number((await rpc(anvil.url, 'eth_blockNumber')).result)
    await waitFor(() => blocks.includes(last) && logs.length >= sent.length, 'every block and log')
    // viem fetches each announced block before calling onBlock, so its calls may finish out of
    // order; what the proxy sent is in order (the plain client beside it), and viem saw each once.
    const heads = raw.notifications.get(rawId)!.map((head: any) => Number(head.number))
    expect(consecutive(heads)).toBe(true)
    expect(heads[heads.length - 1]).toBe(last)
    const lowest = Math.min(...blocks)
    expect([...blocks].sort((a, b) => a - b)).toEqual(
      Array.from({ length: last - lowest + 1 }, (_, index) => lowest + index),
    )
    expect(new Set(blocks).size).toBe(blocks.length)
    expect(blocks.length).toBeGreaterThanOrEqual(30)
    expect(logs).toEqual(sent)
  })

  test('behavior: viem plain calls over the socket are answered through the cache', async () => {
    const { anvil, proxy } = await setUp()
    await rpc(anvil.url, 'anvil_mine', ['0x3'])
    const client = viemClient(proxy)
    const block = await client.getBlock({ blockNumber: 1n })
    expect(block.number).toBe(1n)
    expect((await client.getBlock({ blockNumber: 1n })).hash).toBe(block.hash)
    expect(await client.getBlockNumber()).toBe(3n)
  })

  test("behavior: ethers' WebSocketProvider gets every block once", async () => {
    const { anvil, proxy } = await setUp()
    const provider = new WebSocketProvider(proxy.url.replace('http', 'ws'))
    cleanup.unshift(() => provider.destroy())
    expect(await provider.getBlockNumber()).toBe(0)
    const blocks: number[] = []
    await provider.on('block', (number: number) => blocks.push(number))
    await waitFor(async () => (await proxy.call('edb_streams')).result.subscriptions.newHeads === 1, 'the subscription')
    await rpc(anvil.url, 'anvil_mine', ['0x5'])
    await waitFor(() => blocks.includes(5), 'block 5')
    expect(consecutive(blocks)).toBe(true)
    expect(new Set(blocks).size).toBe(blocks.length)
  })
})
