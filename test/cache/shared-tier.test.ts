import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test'
import { createHash } from 'node:crypto'
import { planCall } from '../../src/cache/policy.ts'
import { type Anvil, rpc, startAnvil } from '../helpers/anvil.ts'
import { freePort } from '../helpers/ports.ts'
import { SOURCE_COMMAND, spawnProxy, startProxy, type TestProxy } from '../helpers/proxy.ts'
import { startRedis, type TestRedis } from '../helpers/redis.ts'
import { type ScriptedUpstream, startScriptedUpstream } from '../helpers/upstream.ts'
import { waitFor } from '../helpers/wait.ts'

let anvil: Anvil
let redis: TestRedis
const cleanup: (() => Promise<unknown> | unknown)[] = []
beforeAll(async () => {
  anvil = await startAnvil()
  // Old enough blocks to be final (anvil finalizes 64 below its head).
  await rpc(anvil.url, 'anvil_mine', ['0x80'])
  redis = await startRedis()
}, 120_000)
afterAll(async () => {
  await redis.stop()
  await anvil.stop()
})
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()!()
  const client = redis.client()
  await client.send('FLUSHALL', [])
  client.close()
})

/** An HTTP relay to anvil that counts what it was asked. */
function relay(): ScriptedUpstream {
  const server = startScriptedUpstream(async (call) => {
    const answer = await fetch(anvil.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(call),
    })
    return new Response(await answer.text(), { headers: { 'content-type': 'application/json' } })
  })
  cleanup.push(() => server.stop())
  return server
}

async function proxyWith(upstream: string, overrides = {}): Promise<TestProxy> {
  const proxy = await startProxy({ rpcUrls: [upstream], devChain: 'no', cacheUrl: redis.url, ...overrides })
  cleanup.unshift(() => proxy.stop())
  await proxy.cacheReady
  return proxy
}

const block = (number: number) => ({
  jsonrpc: '2.0',
  id: 1,
  method: 'eth_getBlockByNumber',
  params: [`0x${number.toString(16)}`, false],
})
const asked = (server: ScriptedUpstream, number: number) =>
  server.hits.filter(
    (hit) => hit.body?.method === 'eth_getBlockByNumber' && hit.body.params[0] === `0x${number.toString(16)}`,
  ).length
const tierOf = async (proxy: TestProxy) => (await proxy.call('edb_cache_stats')).result.shared_cache
const tierUp = (proxy: TestProxy) => waitFor(async () => (await tierOf(proxy))?.state === 'up', 'the shared tier up')

describe('the shared cache tier (Redis)', () => {
  test('default', async () => {
    const proxy = await proxyWith(anvil.url)
    await tierUp(proxy)
    expect(await tierOf(proxy)).toMatchObject({ url: `redis://127.0.0.1:${redis.port}`, state: 'up' })
  })

  test('behavior: two proxies with their own cache directories: each serves what the other fetched, with no upstream call', async () => {
    const [upstreamA, upstreamB] = [relay(), relay()]
    const a = await proxyWith(upstreamA.url)
    const b = await proxyWith(upstreamB.url)
    await tierUp(a)
    await tierUp(b)
    const direct = await rpc(anvil.url, 'eth_getBlockByNumber', ['0x5', false])
    expect((await a.post(block(5))).json.result).toEqual(direct.result)
    await waitFor(async () => (await tierOf(a)).writes >= 1, 'the entry written to Redis')
    const fromB = await b.post(block(5))
    expect([fromB.headers.get('x-cache'), fromB.json.result]).toEqual(['HIT', direct.result])
    expect(asked(upstreamB, 5)).toBe(0)
    // Copied down: B answers again from its own cache with Redis gone.
    await redis.kill()
    expect((await b.post(block(5))).headers.get('x-cache')).toBe('HIT')
    await redis.start()
    // And the other way round.
    await tierUp(b)
    await tierUp(a)
    await b.post(block(9))
    await waitFor(async () => (await tierOf(b)).writes >= 1, 'B written')
    expect((await a.post(block(9))).headers.get('x-cache')).toBe('HIT')
    expect(asked(upstreamA, 9)).toBe(0)
  })

  test('behavior: an entry whose stored key is not the question (a crafted collision) is never served', async () => {
    const upstream = relay()
    const proxy = await proxyWith(upstream.url)
    await tierUp(proxy)
    const plan = planCall('eth_getBlockByNumber', ['0x6', false])!
    const key = `edb:31337:eth_getBlockByNumber:${createHash('sha256').update(plan.key).digest('hex').slice(0, 40)}`
    const client = redis.client()
    await client.set(
      key,
      Buffer.concat([Buffer.from([0]), Buffer.from(`eth_getBlockByNumber:["0x7",false]\n{"forged":true}`)]) as never,
    )
    client.close()
    const answer = await proxy.post(block(6))
    expect(answer.json.result.forged).toBeUndefined()
    expect(answer.json.result.number).toBe('0x6')
    expect(asked(upstream, 6)).toBe(1)
  })

  /** A proxy that wrote two blocks to Redis, and a count of the blocks Redis holds. */
  const twoBlocksShared = async () => {
    const proxy = await proxyWith(anvil.url)
    await tierUp(proxy)
    for (const number of [3, 4]) await proxy.post(block(number))
    await waitFor(async () => (await tierOf(proxy)).writes >= 2, 'two entries written')
    const client = redis.client()
    const keys = async () => ((await client.send('KEYS', ['edb:31337:eth_getBlockByNumber:*'])) as string[]).length
    return { proxy, client, keys }
  }

  test('behavior: edb_deleteCache reaches Redis', async () => {
    const { proxy, client, keys } = await twoBlocksShared()
    expect(await keys()).toBe(2)
    const deleted = (await proxy.call('edb_deleteCache', ['eth_getBlockByNumber'])).result
    expect(deleted.success).toBe(true)
    expect(await keys()).toBe(0)
    client.close()
  })

  test('behavior: edb_deleteCache with a pattern character in the method name deletes only that name, never others', async () => {
    const { proxy, client, keys } = await twoBlocksShared()
    for (const name of ['eth_getBlock*', '*', 'eth_getBlockBy?umber', 'eth_getBlockBy[N]umber']) {
      expect((await proxy.call('edb_deleteCache', [name])).result).toMatchObject({ success: true, deleted_count: 0 })
    }
    expect(await keys()).toBe(2)
    client.close()
  })

  test('behavior: a development chain never writes to it', async () => {
    const dev = await startAnvil()
    cleanup.push(() => dev.stop())
    await rpc(dev.url, 'anvil_mine', ['0x80'])
    const proxy = await startProxy({ rpcUrls: [dev.url], cacheUrl: redis.url })
    cleanup.unshift(() => proxy.stop())
    await proxy.cacheReady
    for (let number = 1; number < 10; number++) await proxy.post(block(number))
    expect(await tierOf(proxy)).toBeUndefined()
    const client = redis.client()
    expect(await client.send('DBSIZE', [])).toBe(0)
    client.close()
  })

  test('behavior: an unreachable Redis at start: the proxy serves at once, the tier shows down in stats, /health and /metrics', async () => {
    const port = freePort()
    const proxy = await proxyWith(anvil.url, { cacheUrl: `redis://127.0.0.1:${port}` })
    expect((await proxy.post(block(11))).json.result.number).toBe('0xb')
    expect(await tierOf(proxy)).toMatchObject({ state: 'down' })
    expect((await proxy.call('edb_ping')).result.status).toBe('ok')
    const health = (await (await fetch(`${proxy.url}/health`)).json()) as any
    expect([health.status, health.shared_cache]).toEqual(['ok', 'down'])
    expect(await (await fetch(`${proxy.url}/metrics`)).text()).toContain('edb_proxy_shared_cache_up 0')
  })

  test('behavior: Redis killed and restarted under load: zero client errors, and the tier comes back', async () => {
    const proxy = await proxyWith(anvil.url)
    await tierUp(proxy)
    let errors = 0
    let answered = 0
    let running = true
    const load = (async () => {
      for (let round = 0; running; round++) {
        // New questions every round (balances at a final block): each asks Redis, then the upstream.
        const replies = await Promise.all(
          Array.from({ length: 20 }, (_, index) => {
            const address = `0x${(round * 20 + index + 1).toString(16).padStart(40, '0')}`
            return proxy.post({ jsonrpc: '2.0', id: 1, method: 'eth_getBalance', params: [address, '0x5'] })
          }),
        )
        for (const reply of replies) {
          if (reply.status !== 200 || reply.json.result !== '0x0') errors += 1
          else answered += 1
        }
      }
    })()
    await waitFor(() => answered >= 200, 'load flowing')
    await redis.kill()
    const during = answered
    await waitFor(() => answered >= during + 200, 'answers while Redis is down')
    await redis.start()
    await tierUp(proxy)
    running = false
    await load
    expect(errors).toBe(0)
    expect((await tierOf(proxy)).errors).toBeGreaterThan(0)
  })

  test('behavior: the password is never in any output', async () => {
    const secured = await startRedis({ password: 's3cret-pw-42' })
    cleanup.push(() => secured.stop())
    const outputs: string[] = []
    for (const url of [secured.url, secured.url.replace('s3cret-pw-42', 's3cret-pw-wrong')]) {
      const proxy = await spawnProxy(SOURCE_COMMAND, [
        'server',
        '--port',
        '0',
        '--rpc-urls',
        anvil.url,
        '--dev-chain',
        'no',
        '--cache-url',
        url,
        '--log-level',
        'debug',
      ])
      const stats = await waitFor(async () => {
        const result = (await rpc(proxy.url!, 'edb_cache_stats')).result
        return result.shared_cache !== undefined && result
      }, 'the tier')
      await rpc(proxy.url!, 'eth_getBlockByNumber', ['0x2', false])
      outputs.push(JSON.stringify(stats), await (await fetch(`${proxy.url}/metrics`)).text())
      proxy.process.kill('SIGTERM')
      await proxy.exited
      outputs.push(proxy.output.join(''))
    }
    const bad = Bun.spawnSync([...SOURCE_COMMAND, 'server', '--cache-url', 'redis://:s3cret-pw-42@'], {
      stderr: 'pipe',
    })
    outputs.push(bad.stderr.toString())
    expect(bad.exitCode).toBe(2)
    const all = outputs.join('\n')
    expect(all).toContain('127.0.0.1')
    expect(all).not.toContain('s3cret-pw')
  })

  test('behavior: two proxies share one rate-limit budget through Redis; with Redis down each falls back to its own', async () => {
    const a = await proxyWith(anvil.url, { rateLimit: 1, rateBurst: 4 })
    const b = await proxyWith(anvil.url, { rateLimit: 1, rateBurst: 4 })
    await tierUp(a)
    await tierUp(b)
    const gas = (proxy: TestProxy) => proxy.post({ jsonrpc: '2.0', id: 1, method: 'eth_gasPrice', params: [] })
    const statuses = []
    for (const proxy of [a, a, b, b, b, a]) statuses.push((await gas(proxy)).status)
    // One budget of 4 for the client (ip:127.0.0.1), whichever proxy it calls.
    expect(statuses).toEqual([200, 200, 200, 200, 429, 429])
    const refused = await gas(b)
    expect([refused.json.error.code, Number(refused.headers.get('retry-after'))]).toEqual([-32005, 1])
    await redis.kill()
    // Each proxy's own bucket, full: 4 more on each, no errors other than the limit.
    const fallback = []
    for (let round = 0; round < 5; round++) fallback.push((await gas(a)).status)
    expect(fallback).toEqual([200, 200, 200, 200, 429])
    await redis.start()
  })
})
