import { afterEach, describe, expect, test } from 'bun:test'
import { startProxy, type TestProxy } from '../helpers/proxy.ts'
import { type ScriptedUpstream, startScriptedUpstream } from '../helpers/upstream.ts'
import { waitFor } from '../helpers/wait.ts'

const cleanup: (() => Promise<void>)[] = []
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()!()
})

/** Methods a held upstream keeps until the test lets them go: a read and a write (never hedged). */
const HELD = new Set(['eth_getBalance', 'eth_sendRawTransaction'])

/**
 * A provider on chain 1 that holds every call of `HELD` until the test lets it go, and counts how
 * many it holds at once; probes and detection answer at once.
 */
function heldUpstream() {
  const held: (() => void)[] = []
  let inFlight = 0
  let peak = 0
  const server: ScriptedUpstream = startScriptedUpstream(async (call) => {
    if (call.method === 'eth_chainId') return '0x1'
    if (!HELD.has(call.method)) return '0x10'
    inFlight += 1
    peak = Math.max(peak, inFlight)
    await new Promise<void>((resolve) => held.push(resolve))
    inFlight -= 1
    return call.params[0]
  })
  cleanup.push(() => server.stop())
  return {
    url: server.url,
    held: () => held.length,
    peak: () => peak,
    releaseOne: () => held.shift()?.(),
  }
}

async function proxyFor(url: string, overrides = {}): Promise<TestProxy> {
  const proxy = await startProxy({ rpcUrls: [url], maxCacheItems: 0, healthCheckInterval: 3_600, ...overrides })
  cleanup.unshift(() => proxy.stop())
  await proxy.cacheReady
  return proxy
}

const balanceOf = (proxy: TestProxy, index: number) =>
  proxy.call('eth_getBalance', [`0x${index.toString(16).padStart(40, '0')}`, 'latest'], index)

const providerState = async (proxy: TestProxy) => (await proxy.call('edb_providers')).result.providers[0]

describe('upstream slots', () => {
  test('default', async () => {
    const upstream = heldUpstream()
    const proxy = await proxyFor(upstream.url)
    const answer = balanceOf(proxy, 1)
    await waitFor(() => upstream.held() === 1, 'the call upstream')
    upstream.releaseOne()
    expect((await answer).result).toBe(`0x${'1'.padStart(40, '0')}`)
  })

  test('behavior: calls beyond --upstream-concurrency wait for a slot in order: the provider never has more in flight, every call is answered', async () => {
    const upstream = heldUpstream()
    const proxy = await proxyFor(upstream.url, { upstreamConcurrency: 3, upstreamQueue: 10 })
    const answers = Array.from({ length: 8 }, (_, index) => balanceOf(proxy, index))
    await waitFor(() => upstream.held() === 3, 'three calls upstream')
    // /metrics shows the slots and the queue per provider.
    const scrape = async () => (await fetch(`${proxy.url}/metrics`)).text()
    const gauge = (text: string, name: string) =>
      Number(text.match(new RegExp(`^${name}\\{provider="[^"]+"\\} (\\d+)$`, 'm'))?.[1])
    const queued = await waitFor(async () => {
      const text = await scrape()
      return gauge(text, 'edb_proxy_upstream_waiting') === 5 && text
    }, 'five calls waiting')
    expect(gauge(queued as string, 'edb_proxy_upstream_in_flight')).toBe(3)
    for (let released = 0; released < 8; released++) {
      await waitFor(() => upstream.held() > 0, 'a held call')
      upstream.releaseOne()
    }
    const results = await Promise.all(answers)
    expect(results.map((answer) => answer.result)).toEqual(
      Array.from({ length: 8 }, (_, index) => `0x${index.toString(16).padStart(40, '0')}`),
    )
    expect(upstream.peak()).toBe(3)
  })

  test('behavior: beyond the queue a call is refused at once with -32005, and being busy is never a strike', async () => {
    const upstream = heldUpstream()
    // One failure would open the circuit: a busy refusal counted as one would show.
    const proxy = await proxyFor(upstream.url, { upstreamConcurrency: 1, upstreamQueue: 1, maxFailures: 1 })
    const first = balanceOf(proxy, 1)
    await waitFor(() => upstream.held() === 1, 'the first call upstream')
    const second = balanceOf(proxy, 2)
    // While both are still held back, two more come back refused.
    const refused = await Promise.all([balanceOf(proxy, 3), balanceOf(proxy, 4)])
    for (const answer of refused) {
      expect(answer.error.code).toBe(-32005)
      expect(answer.error.message).toContain('Upstream busy')
      expect(answer.error.data.attempts[0].failure).toBe('busy')
    }
    expect(upstream.held()).toBe(1)
    upstream.releaseOne()
    await waitFor(() => upstream.held() === 1, 'the queued call upstream')
    upstream.releaseOne()
    expect([(await first).result, (await second).result]).toEqual([
      `0x${'1'.padStart(40, '0')}`,
      `0x${'2'.padStart(40, '0')}`,
    ])
    expect(await providerState(proxy)).toMatchObject({ is_healthy: true, state: 'closed' })
  })

  test('behavior: time spent waiting for a slot is not counted against the attempt or the call', async () => {
    // Each answer takes 250 ms, well inside the 1 s attempt timeout; with one slot the last of 16
    // calls waits 3.75 s, past the attempt timeout and past the 3 s all attempts of a call may take.
    const server = startScriptedUpstream(async (call) => {
      if (call.method === 'eth_chainId') return '0x1'
      if (call.method === 'eth_getBalance') await Bun.sleep(250)
      return '0x10'
    })
    cleanup.push(() => server.stop())
    const proxy = await proxyFor(server.url, { upstreamConcurrency: 1, upstreamTimeoutMs: 1_000, maxFailures: 1 })
    const results = await Promise.all(Array.from({ length: 16 }, (_, index) => balanceOf(proxy, index)))
    expect(results.filter((answer) => answer.error !== undefined)).toEqual([])
    expect(await providerState(proxy)).toMatchObject({ is_healthy: true, state: 'closed' })
  })

  test('behavior: a provider with every slot taken is tried after one with room', async () => {
    const busy = heldUpstream()
    const free = startScriptedUpstream((call) => (call.method === 'eth_chainId' ? '0x1' : '0xf1'))
    cleanup.push(() => free.stop())
    const proxy = await startProxy({
      rpcUrls: [busy.url, free.url],
      maxCacheItems: 0,
      healthCheckInterval: 3_600,
      upstreamConcurrency: 1,
    })
    cleanup.unshift(() => proxy.stop())
    await proxy.cacheReady
    const send = (index: number) =>
      proxy.call('eth_sendRawTransaction', [`0x${index.toString(16).padStart(2, '0')}`], index)
    // Writes are never hedged: one that the weighted order sends to the busy provider first stays there.
    let sent = 0
    while (busy.held() === 0 && sent < 50)
      await Promise.race([send(sent++), waitFor(() => busy.held() === 1, 'a held write', 2_000).catch(() => {})])
    expect(busy.held()).toBe(1)
    const writesToFree = () => free.hits.filter((hit) => hit.body?.method === 'eth_sendRawTransaction').length
    const before = writesToFree()
    // One at a time (the free provider has one slot too): each goes first to the provider with room,
    // none waits behind the held one.
    for (let index = 0; index < 20; index++) {
      const answer = send(100 + index)
      await waitFor(() => writesToFree() === before + index + 1, `write ${index} answered by the free provider`)
      expect((await answer).result).toBe('0xf1')
    }
    busy.releaseOne()
  })
})
