import { afterEach, describe, expect, test } from 'bun:test'
import { type Anvil, rpc, startAnvil } from '../helpers/anvil.ts'
import { EMITTER, emit, installEmitter, SENDER, TOPIC } from '../helpers/emitter.ts'
import { startProxy, type TestProxy } from '../helpers/proxy.ts'
import { rpcErrorResponse, startScriptedUpstream } from '../helpers/upstream.ts'
import { waitFor } from '../helpers/wait.ts'
import { connectWs, type WsClient } from '../helpers/ws-client.ts'
import { startWsForwarder, type WsForwarder } from '../helpers/ws-forwarder.ts'

function forwarder(anvil: Anvil): WsForwarder {
  const relay = startWsForwarder(anvil.url)
  cleanup.push(() => relay.stop())
  return relay
}

const cleanup: (() => Promise<void> | void)[] = []
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()!()
})

async function anvilAndProxy(overrides = {}): Promise<{ anvil: Anvil; proxy: TestProxy }> {
  const anvil = await startAnvil()
  cleanup.push(() => anvil.stop())
  const proxy = await startProxy({ rpcUrls: [anvil.url], ...overrides })
  cleanup.push(() => proxy.stop())
  await proxy.cacheReady
  return { anvil, proxy }
}

async function client(proxy: TestProxy, path = ''): Promise<WsClient> {
  const ws = await connectWs(`${proxy.url}${path}`)
  cleanup.unshift(() => ws.close())
  return ws
}

const numbers = (heads: any[]) => heads.map((head) => Number(head.number))

describe('WebSocket', () => {
  test('default', async () => {
    const { anvil, proxy } = await anvilAndProxy()
    const ws = await client(proxy)
    const reply = await ws.call('eth_chainId')
    expect(reply).toEqual({ jsonrpc: '2.0', id: 1, result: (await rpc(anvil.url, 'eth_chainId')).result })
  })

  test('behavior: newHeads over the proxy: every mined block once, in order', async () => {
    const { anvil, proxy } = await anvilAndProxy()
    const ws = await client(proxy)
    const { result: id } = await ws.call('eth_subscribe', ['newHeads'])
    expect(id).toMatch(/^0x[0-9a-f]{32}$/)
    // Not the head current when it subscribed (block 0): every block mined after it.
    await rpc(anvil.url, 'anvil_mine', ['0x5'])
    await waitFor(() => numbers(ws.notifications.get(id)!).includes(5), 'block 5')
    expect(numbers(ws.notifications.get(id)!)).toEqual([1, 2, 3, 4, 5])
  })

  test('behavior: logs with a filter: only matching logs, each once, in block order', async () => {
    const { anvil, proxy } = await anvilAndProxy()
    await installEmitter(anvil.url)
    const ws = await client(proxy)
    const { result: heads } = await ws.call('eth_subscribe', ['newHeads'])
    const { result: matching } = await ws.call('eth_subscribe', ['logs', { address: EMITTER, topics: [TOPIC] }])
    const { result: other } = await ws.call('eth_subscribe', [
      'logs',
      { address: '0x00000000000000000000000000000000000000e2' },
    ])
    const hashes = [await emit(anvil.url), await emit(anvil.url), await emit(anvil.url)]
    await waitFor(() => (ws.notifications.get(matching)?.length ?? 0) >= 3, 'three logs')
    await rpc(anvil.url, 'anvil_mine', ['0x1'])
    await waitFor(() => (ws.notifications.get(heads)?.length ?? 0) >= 4, 'the block after')
    const logs = ws.notifications.get(matching)!
    expect(logs.map((log) => log.transactionHash)).toEqual(hashes)
    expect(logs.every((log) => log.address === EMITTER && log.topics[0] === TOPIC && log.removed === false)).toBe(true)
    expect(ws.notifications.get(other)).toBeUndefined()
  })

  test('behavior: a reorg is a new head at the replaced height, its logs sent again removed: true before the new ones', async () => {
    const { anvil, proxy } = await anvilAndProxy()
    await installEmitter(anvil.url)
    const ws = await client(proxy)
    const { result: heads } = await ws.call('eth_subscribe', ['newHeads'])
    const { result: logs } = await ws.call('eth_subscribe', ['logs', { address: EMITTER }])
    const replaced = await emit(anvil.url)
    await waitFor(() => (ws.notifications.get(logs)?.length ?? 0) >= 1, 'the log')
    await waitFor(() => (ws.notifications.get(heads)?.length ?? 0) >= 1, "the log's head")
    const before = ws.notifications.get(heads)!.slice()
    const replacedHead = before[before.length - 1]
    // Replace the last block by one carrying nothing.
    expect((await rpc(anvil.url, 'anvil_reorg', [1, []])).error).toBeUndefined()
    await waitFor(() => ws.notifications.get(heads)!.length > before.length, 'the replacement head')
    await waitFor(() => ws.notifications.get(logs)!.length >= 2, 'the removed log')
    const after = ws.notifications.get(heads)!.slice(before.length)
    expect(after[0].number).toBe(replacedHead.number)
    expect(after[0].hash).not.toBe(replacedHead.hash)
    const sent = ws.notifications.get(logs)!
    expect(sent.map((log) => [log.transactionHash, log.removed])).toEqual([
      [replaced, false],
      [replaced, true],
    ])
    // The chain goes on from the replacement: the next log is new.
    const next = await emit(anvil.url)
    await waitFor(() => ws.notifications.get(logs)!.length >= 3, 'the next log')
    expect(ws.notifications.get(logs)![2]).toMatchObject({ transactionHash: next, removed: false })
  })

  test('behavior: newPendingTransactions names a sent transaction once', async () => {
    const { anvil, proxy } = await anvilAndProxy()
    const ws = await client(proxy)
    const { result: pending } = await ws.call('eth_subscribe', ['newPendingTransactions'])
    // Subscribed before the transaction is sent (the feed's socket confirms its own subscription first).
    await waitFor(
      async () =>
        (await proxy.call('edb_streams')).result.sources
          .find((s: any) => s.kind === 'pending')
          .sockets.some((s: any) => s.up),
      'the pending feed',
    )
    const hash = await rpc(anvil.url, 'eth_sendTransaction', [{ from: SENDER, to: EMITTER, value: '0x1' }])
    await waitFor(() => (ws.notifications.get(pending)?.length ?? 0) >= 1, 'the pending transaction')
    expect(ws.notifications.get(pending)).toEqual([hash.result])
  })

  test('behavior: unsubscribing or disconnecting releases the feed; ids are unique and unknown ones answer false', async () => {
    const { proxy } = await anvilAndProxy()
    const one = await client(proxy)
    const two = await client(proxy)
    const a = (await one.call('eth_subscribe', ['newHeads'])).result
    const b = (await two.call('eth_subscribe', ['newHeads'])).result
    expect(a).not.toBe(b)
    const streams = async () => (await proxy.call('edb_streams')).result
    expect((await streams()).feeds).toEqual([{ kind: 'newHeads', subscribers: 2 }])
    // Another connection's id is not this one's to cancel.
    expect((await one.call('eth_unsubscribe', [b])).result).toBe(false)
    expect((await one.call('eth_unsubscribe', [a])).result).toBe(true)
    expect((await one.call('eth_unsubscribe', [a])).result).toBe(false)
    expect((await streams()).subscriptions.newHeads).toBe(1)
    two.close()
    await waitFor(async () => (await streams()).feeds.length === 0, 'the feed closed with its last client')
    expect((await streams()).sources[0]).toMatchObject({ polling: false, sockets: [] })
  })

  test('behavior: exactly once and in order while both upstream feeds are dropped, skip heights and repeat events', async () => {
    const anvil = await startAnvil()
    cleanup.push(() => anvil.stop())
    const feeds = [forwarder(anvil), forwarder(anvil)]
    const proxy = await startProxy({ rpcUrls: [anvil.url], wsUrls: feeds.map((feed) => feed.url) })
    cleanup.push(() => proxy.stop())
    await proxy.cacheReady
    const ws = await client(proxy)
    const { result: id } = await ws.call('eth_subscribe', ['newHeads'])
    // The head current when it subscribed is not news: the first block after it is.
    const first = Number((await rpc(anvil.url, 'eth_blockNumber')).result) + 1
    for (let round = 0; round < 12; round++) {
      const feed = feeds[round % 2]!
      const dropped = round % 4 === 3 ? feeds : round % 3 === 0 ? [feed] : []
      const before = dropped.map((each) => each.accepted)
      // Every fourth round both feeds go at once: the gap is filled over HTTP when one is back.
      for (const each of dropped) each.dropAll()
      if (round % 3 === 1) feed.skip(2)
      feed.duplicating = round % 3 === 2
      // The other feed is slow now and then: its copies of the heads arrive after the first feed's.
      feeds[(round + 1) % 2]!.delayMs = round % 2 === 0 ? 30 : 0
      await rpc(anvil.url, 'anvil_mine', ['0x3'])
      await waitFor(
        () => dropped.every((each, index) => each.accepted > before[index]!),
        'the dropped feeds to reconnect',
      )
    }
    const last = Number((await rpc(anvil.url, 'eth_blockNumber')).result)
    await waitFor(() => numbers(ws.notifications.get(id)!).includes(last), `block ${last}`)
    const seen = numbers(ws.notifications.get(id)!)
    expect(seen).toEqual(Array.from({ length: last - first + 1 }, (_, index) => first + index))
    // Both feeds were really dropped and came back.
    expect(feeds.every((feed) => feed.accepted >= 4)).toBe(true)
    // /metrics tells the story: repeats dropped, gaps filled, one client, one subscription.
    const text = await (await fetch(`${proxy.url}/metrics`)).text()
    const value = (name: string) => Number(text.match(new RegExp(`^${name} (\\d+)$`, 'm'))?.[1])
    expect(value('edb_proxy_stream_duplicates_dropped_total')).toBeGreaterThan(0)
    expect(value('edb_proxy_stream_gaps_filled_total')).toBeGreaterThan(0)
    expect(value('edb_proxy_stream_events_total')).toBe(seen.length)
    expect(value('edb_proxy_ws_connections')).toBe(1)
    expect(text).toContain('edb_proxy_subscriptions{kind="newHeads"} 1')
  })

  test('behavior: with no upstream socket the feed polls over HTTP and still delivers every block', async () => {
    const anvil = await startAnvil()
    cleanup.push(() => anvil.stop())
    const refusing = forwarder(anvil)
    refusing.refusing = true
    const proxy = await startProxy({ rpcUrls: [anvil.url], wsUrls: [refusing.url], pollIntervalMs: 100 })
    cleanup.push(() => proxy.stop())
    await proxy.cacheReady
    const ws = await client(proxy)
    const { result: id } = await ws.call('eth_subscribe', ['newHeads'])
    await rpc(anvil.url, 'anvil_mine', ['0x4'])
    await waitFor(() => numbers(ws.notifications.get(id)!).includes(4), 'block 4')
    expect(numbers(ws.notifications.get(id)!)).toEqual([1, 2, 3, 4])
    expect((await proxy.call('edb_streams')).result.sources[0].polling).toBe(true)
  })

  test('behavior: a provider that is behind never fills a gap it cannot fill, and is not struck for it', async () => {
    const anvil = await startAnvil()
    cleanup.push(() => anvil.stop())
    // A provider stuck at block 2: it answers null for blocks above it, and "unknown block" for their logs.
    const behind = startScriptedUpstream(async (call) => {
      const asked = call.method === 'eth_getBlockByNumber' ? call.params[0] : undefined
      if (asked !== undefined && asked !== 'latest' && asked !== 'pending' && Number(asked) > 2) return null
      if (call.method === 'eth_getBlockByHash') return null
      if (call.method === 'eth_getLogs') return rpcErrorResponse(call, -32000, 'unknown block')
      if (call.method === 'eth_blockNumber') return '0x2'
      const answer = await fetch(anvil.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(call),
      })
      return new Response(await answer.text(), { headers: { 'content-type': 'application/json' } })
    })
    cleanup.push(() => behind.stop())
    const feed = forwarder(anvil)
    const proxy = await startProxy({
      rpcUrls: [behind.url, anvil.url],
      wsUrls: [feed.url],
      maxFailures: 1,
      healthCheckInterval: 3_600,
    })
    cleanup.push(() => proxy.stop())
    await proxy.cacheReady
    const ws = await client(proxy)
    const { result: id } = await ws.call('eth_subscribe', ['newHeads'])
    // Ten gaps of four blocks each: whichever provider is asked first, the blocks come from the one that has them.
    for (let round = 0; round < 10; round++) {
      feed.skip(3)
      await rpc(anvil.url, 'anvil_mine', ['0x4'])
    }
    await waitFor(() => numbers(ws.notifications.get(id)!).includes(40), 'block 40')
    expect(numbers(ws.notifications.get(id)!)).toEqual(Array.from({ length: 40 }, (_, index) => index + 1))
    expect(
      behind.hits.some((hit) => hit.body?.method === 'eth_getBlockByNumber' && Number(hit.body.params[0]) > 2),
    ).toBe(true)
    const providers = (await proxy.call('edb_providers')).result.providers
    expect(providers.every((provider: any) => provider.state === 'closed')).toBe(true)
  })

  test('behavior: feeds that stay connected but go silent are backed by polling: every block still arrives, in order', async () => {
    const anvil = await startAnvil()
    cleanup.push(() => anvil.stop())
    const feeds = [forwarder(anvil), forwarder(anvil)]
    const proxy = await startProxy({ rpcUrls: [anvil.url], wsUrls: feeds.map((feed) => feed.url), pollIntervalMs: 50 })
    cleanup.push(() => proxy.stop())
    await proxy.cacheReady
    const ws = await client(proxy)
    const { result: id } = await ws.call('eth_subscribe', ['newHeads'])
    await waitFor(
      async () =>
        (await proxy.call('edb_streams')).result.sources[0].sockets.filter((socket: any) => socket.up).length === 2,
      'both feeds up',
    )
    for (const feed of feeds) feed.stalled = true
    await rpc(anvil.url, 'anvil_mine', ['0x3'])
    await waitFor(() => numbers(ws.notifications.get(id)!).includes(3), 'block 3 while both feeds are silent')
    for (const feed of feeds) feed.stalled = false
    await rpc(anvil.url, 'anvil_mine', ['0x2'])
    await waitFor(() => numbers(ws.notifications.get(id)!).includes(5), 'block 5')
    expect(numbers(ws.notifications.get(id)!)).toEqual([1, 2, 3, 4, 5])
    expect((await proxy.call('edb_streams')).result.sources[0].sockets.every((socket: any) => socket.up)).toBe(true)
  })

  test('behavior: a WebSocket feed on another chain is never used: its heads never reach a client', async () => {
    const anvil = await startAnvil()
    cleanup.push(() => anvil.stop())
    const other = await startAnvil(['--chain-id', '777'])
    cleanup.push(() => other.stop())
    const proxy = await startProxy({
      rpcUrls: [anvil.url],
      wsUrls: [other.url.replace('http', 'ws')],
      pollIntervalMs: 50,
    })
    cleanup.push(() => proxy.stop())
    await proxy.cacheReady
    const ws = await client(proxy)
    const { result: id } = await ws.call('eth_subscribe', ['newHeads'])
    await rpc(other.url, 'anvil_mine', ['0x5'])
    await rpc(anvil.url, 'anvil_mine', ['0x2'])
    await waitFor(() => numbers(ws.notifications.get(id)!).includes(2), 'block 2 of the right chain')
    const hashes = await Promise.all(
      [1, 2].map(
        async (block) => (await rpc(anvil.url, 'eth_getBlockByNumber', [`0x${block.toString(16)}`, false])).result.hash,
      ),
    )
    expect(ws.notifications.get(id)!.map((head) => head.hash)).toEqual(hashes)
    expect((await proxy.call('edb_streams')).result.sources[0].sockets.every((socket: any) => !socket.up)).toBe(true)
  })
})
