import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { type Anvil, startAnvil } from '../helpers/anvil.ts'
import { type BusyBlock, castRunTx, seedBusyBlock } from '../helpers/busy-block.ts'
import { edbLikeReplay } from '../helpers/edb-like-replay.ts'
import { type LatencyForwarder, startLatencyForwarder } from '../helpers/latency-forwarder.ts'
import { startProxy } from '../helpers/proxy.ts'

/**
 * SPEC §10 "The first run": the last of 40 transactions of one block, each touching 12 slots and 3
 * accounts, replayed through a fresh proxy: at most 20 upstream requests (going direct makes about
 * 620), the output equal to going direct. The same for a client that reads the parent state one
 * call at a time, as EDB does.
 */
let anvil: Anvil
let busy: BusyBlock
let upstream: LatencyForwarder
beforeAll(async () => {
  anvil = await startAnvil()
  busy = await seedBusyBlock(anvil.url)
  upstream = startLatencyForwarder(anvil.url, 0)
})
afterAll(async () => {
  await upstream.stop()
  await anvil.stop()
})

/** A fresh proxy, its head tracking done, the forwarder's count reset: what is left is the run's own. */
async function freshProxy() {
  const proxy = await startProxy({ rpcUrls: [upstream.url], devChain: 'no' })
  await proxy.cacheReady
  upstream.reset()
  return proxy
}

/** Requests the run made, less the proxy's own head tracking (eth_blockNumber, the finalized block). */
const runRequests = () => upstream.requests() - upstream.requestsWith('eth_blockNumber')

describe('the first run (SPEC §10, §14)', () => {
  test('default', async () => {
    const expected = await castRunTx(busy.txs.at(-1) as string, anvil.url)
    await using proxy = await freshProxy()
    const output = await castRunTx(busy.txs.at(-1) as string, proxy.url)
    expect(output).toBe(expected)
    expect(runRequests()).toBeLessThanOrEqual(20)
  })

  test('behavior: an EDB-like serial reader gets every answer equal to anvil’s, in at most 20 upstream requests', async () => {
    const expected = await edbLikeReplay(busy, 'last', anvil.url)
    await using proxy = await freshProxy()
    const replay = await edbLikeReplay(busy, 'last', proxy.url)
    expect(replay.output).toBe(expected.output.replaceAll(anvil.url, proxy.url))
    expect({ calls: replay.calls > 400, requests: runRequests() <= 20 }).toEqual({ calls: true, requests: true })
  })

  test('behavior: a transaction in the middle of its block replays right, in at most 20 upstream requests', async () => {
    const expected = await edbLikeReplay(busy, 'middle', anvil.url)
    await using proxy = await freshProxy()
    expect((await edbLikeReplay(busy, 'middle', proxy.url)).output).toBe(expected.output)
    expect(runRequests()).toBeLessThanOrEqual(20)
  })
})
