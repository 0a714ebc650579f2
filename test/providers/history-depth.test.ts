import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { type Anvil, rpc, startAnvil } from '../helpers/anvil.ts'
import { startProxy } from '../helpers/proxy.ts'
import { startPrunedNode } from '../helpers/pruned-node.ts'
import { waitFor } from '../helpers/wait.ts'

/**
 * SPEC §6, what each provider can serve: two providers in front of one anvil, one of them a "full
 * node" keeping state from block EDGE up. Once the proxy knows, historical reads below the edge go
 * to the other first; the pruned one is never struck for its "missing trie node".
 */
const EDGE = 200
const READS = 100

let anvil: Anvil
beforeAll(async () => {
  anvil = await startAnvil()
  await rpc(anvil.url, 'anvil_mine', ['0x12c'])
})
afterAll(() => anvil.stop())

/** Distinct historical reads below the edge: each must reach a provider. */
const historicalReads = () =>
  Array.from({ length: READS }, (_, index) => [
    `0x${(index + 1).toString(16).padStart(40, '0')}`,
    `0x${(1 + ((index * 37) % (EDGE - 1))).toString(16)}`,
  ])

const viewOf = async (proxy: { call: (method: string) => Promise<any> }, url: string) =>
  (await proxy.call('edb_providers')).result.providers.find((entry: any) => entry.url === url.replace(/\/$/, ''))

describe('history depth per provider (SPEC §6)', () => {
  test('default', async () => {
    const pruned = startPrunedNode(anvil.url, EDGE)
    await using proxy = await startProxy({ rpcUrls: [pruned.url], devChain: 'no' })
    await proxy.cacheReady
    // Above its edge it answers like any node; below it, one provider alone: its error is the answer.
    expect((await proxy.call('eth_getBalance', [`0x${'ab'.repeat(20)}`, '0x100'])).result).toBe('0x0')
    const below = await proxy.call('eth_getBalance', [`0x${'ab'.repeat(20)}`, '0x10'])
    expect(below.error.message).toContain('missing trie node')
    expect(await viewOf(proxy, pruned.url)).toMatchObject({ history: { capabilities: 'not-served' } })
    await pruned.stop()
  })

  test('behavior: learned from "missing trie node" and a few probes: at most 3 of 100 reads below the edge reach the pruned node; never a strike', async () => {
    const pruned = startPrunedNode(anvil.url, EDGE)
    const archive = startPrunedNode(anvil.url, 0)
    await using proxy = await startProxy({ rpcUrls: [pruned.url, archive.url], devChain: 'no' })
    await proxy.cacheReady
    for (const [id, params] of historicalReads().entries())
      expect((await proxy.call('eth_getBalance', params, id)).result).toBe('0x0')
    expect(pruned.counts.belowEdge).toBeLessThanOrEqual(3)
    // The probes: a binary search, a dozen at most.
    expect(pruned.counts.probesBelowEdge).toBeLessThanOrEqual(12)
    const view = await viewOf(proxy, pruned.url)
    expect(view).toMatchObject({ is_healthy: true, state: 'closed', consecutive_failures: 0 })
    expect(view.history.state.missing_up_to).toBeLessThan(EDGE)
    expect(view.history.state.oldest_block).toBeGreaterThanOrEqual(EDGE)
    await pruned.stop()
    await archive.stop()
  })

  test('behavior: a node that serves eth_capabilities: 0 reads below its edge reach it, from the first, and nothing is probed', async () => {
    const pruned = startPrunedNode(anvil.url, EDGE, { capabilities: true })
    const archive = startPrunedNode(anvil.url, 0, { capabilities: true })
    await using proxy = await startProxy({ rpcUrls: [pruned.url, archive.url], devChain: 'no' })
    await proxy.cacheReady
    for (const [id, params] of historicalReads().entries())
      expect((await proxy.call('eth_getBalance', params, id)).result).toBe('0x0')
    expect([pruned.counts.belowEdge, pruned.counts.probesBelowEdge]).toEqual([0, 0])
    // Reads above the edge still go to both: it holds them.
    for (let id = 0; id < 40 && (pruned.counts.methods.get('eth_getBalance') ?? 0) === 0; id++)
      await proxy.call('eth_getBalance', [`0x${(id + 1).toString(16).padStart(40, 'c')}`, '0x120'], id)
    expect(pruned.counts.methods.get('eth_getBalance')).toBeGreaterThan(0)
    expect(await viewOf(proxy, pruned.url)).toMatchObject({
      history: {
        capabilities: 'served',
        state: { oldest_block: EDGE, missing_up_to: EDGE - 1, source: 'capabilities' },
      },
    })
    await pruned.stop()
    await archive.stop()
  })

  test('behavior: probes run beside client calls, never in front of them: reads are answered while a probe is held', async () => {
    let release!: () => void
    const held = new Promise<void>((resolve) => {
      release = resolve
    })
    const pruned = startPrunedNode(anvil.url, EDGE, { probesWaitFor: held })
    const archive = startPrunedNode(anvil.url, 0)
    await using proxy = await startProxy({ rpcUrls: [pruned.url, archive.url], devChain: 'no' })
    await proxy.cacheReady
    // Reads until one lands on the pruned node below its edge: that starts the search, whose first probe is held.
    const reads = historicalReads()
    let id = 0
    while (pruned.counts.belowEdge === 0 && id < reads.length) await proxy.call('eth_getBalance', reads[id], id++)
    await waitFor(() => pruned.counts.probesHeld > 0, 'the first probe held')
    expect(pruned.counts.probesHeld).toBe(1)
    // Every client read, below the edge or above, on either provider, is answered while the probe waits.
    const during = await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        proxy.call('eth_getBalance', [
          `0x${(index + 1).toString(16).padStart(40, 'd')}`,
          `0x${(index * 15).toString(16)}`,
        ]),
      ),
    )
    expect(during.every((answer) => answer.result === '0x0')).toBe(true)
    expect(pruned.counts.probesHeld).toBe(1)
    release()
    await pruned.stop()
    await archive.stop()
  })
})
