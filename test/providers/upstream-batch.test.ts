import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test'
import parsePrometheus from 'parse-prometheus-text-format'
import { isConnectionReset } from '../../src/providers/upstream-errors.ts'
import { type Anvil, rpc, startAnvil } from '../helpers/anvil.ts'
import { type CountingForwarder, startCountingForwarder } from '../helpers/counting.ts'
import { startProxy, type TestProxy } from '../helpers/proxy.ts'
import { rpcErrorResponse, type ScriptedUpstream, startScriptedUpstream } from '../helpers/upstream.ts'

let anvil: Anvil
const cleanup: (() => Promise<void>)[] = []

beforeAll(async () => {
  anvil = await startAnvil()
  // Final history to read: anvil's finalized block is head - 64.
  await rpc(anvil.url, 'anvil_mine', ['0x50'])
}, 30_000)
afterAll(() => anvil.stop())
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()!()
})

async function proxyFor(urls: string[], overrides = {}): Promise<TestProxy> {
  // anvil stands in for a remote provider: --dev-chain no caches it as a real chain.
  // Batching mechanics, counted per request: the proofs of SPEC §15 would ride in the same batches (test/verify).
  const proxy = await startProxy({ rpcUrls: urls, devChain: 'no', verifyState: 'off', ...overrides })
  cleanup.unshift(() => proxy.stop())
  await proxy.cacheReady
  return proxy
}

function counting(target = anvil.url): CountingForwarder {
  const counter = startCountingForwarder(target)
  cleanup.push(() => counter.stop())
  return counter
}

/** A provider in front of anvil that relays single calls and answers batches with `onBatch`. */
function gateway(onBatch: (calls: any[]) => Response | Promise<Response>): ScriptedUpstream {
  const relay = async (body: unknown) => {
    const answer = await fetch(anvil.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
    return new Response(await answer.text(), { headers: { 'content-type': 'application/json' } })
  }
  const server = startScriptedUpstream((body) => (Array.isArray(body) ? onBatch(body) : relay(body)))
  cleanup.push(() => server.stop())
  return server
}

/** anvil's own answers to a batch, each call on its own: what the proxy must give back. */
const relayItems = async (calls: any[]) =>
  Promise.all(calls.map((call) => rpc(anvil.url, call.method, call.params, call.id)))

/** `count` distinct final reads: balances of distinct accounts at block 5. */
const reads = (count: number, offset = 0) =>
  Array.from({ length: count }, (_, index) => ({
    jsonrpc: '2.0',
    id: index,
    method: 'eth_getBalance',
    params: [`0x${(offset + index + 1).toString(16).padStart(40, '0')}`, '0x5'],
  }))

const arrays = (server: ScriptedUpstream) => server.hits.filter((hit) => Array.isArray(hit.body))
const singles = (server: ScriptedUpstream, method: string) =>
  server.hits.filter((hit) => hit.body?.method === method).length

async function metric(proxy: TestProxy, name: string): Promise<number> {
  const families = parsePrometheus(await (await fetch(`${proxy.url}/metrics`)).text())
  return Number(families.find((family: any) => family.name === name)?.metrics[0]?.value ?? Number.NaN)
}

describe('upstream batching against anvil', () => {
  test('behavior: a cold client batch of 300 distinct reads goes upstream in ⌈300 / size⌉ requests, answers equal to anvil’s', async () => {
    const direct = await rpc(anvil.url, 'eth_getBalance', ['0x0000000000000000000000000000000000000001', '0x5'])
    expect(direct.result).toBeDefined()
    for (const size of [100, 64]) {
      const counter = counting()
      const proxy = await proxyFor([counter.url], { upstreamBatchSize: size })
      const batch = reads(300)
      const expected = await (
        await fetch(anvil.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(batch),
        })
      ).json()
      const cold = await proxy.post(batch)
      expect(cold.json).toEqual(expected)
      expect(cold.headers.get('x-cache')).toBe('MISS')
      expect(counter.count('eth_getBalance')).toBe(300)
      const sizes = counter.requestSizes('eth_getBalance')
      expect(sizes.length).toBeLessThanOrEqual(Math.ceil(300 / size))
      expect(Math.max(...sizes)).toBeLessThanOrEqual(size)
      // Warm: the same batch is answered from the cache, nothing goes upstream.
      const warm = await proxy.post(batch)
      expect(warm.json).toEqual(expected)
      expect(warm.headers.get('x-cache')).toBe('HIT')
      expect(counter.count('eth_getBalance')).toBe(300)
      expect(await metric(proxy, 'edb_proxy_upstream_batches_total')).toBe(sizes.length)
      expect(await metric(proxy, 'edb_proxy_upstream_batched_calls_total')).toBe(300)
    }
  })

  test('behavior: --upstream-batch-size 1 sends every miss on its own', async () => {
    const counter = counting()
    const proxy = await proxyFor([counter.url], { upstreamBatchSize: 1 })
    const batch = reads(40, 1_000)
    const answered = await proxy.post(batch)
    expect(answered.json).toEqual(await relayItems(batch))
    expect(counter.requestSizes('eth_getBalance')).toEqual(Array(40).fill(1))
  })

  test('behavior: only misses travel: hits, identical calls and notifications of one batch are not sent again', async () => {
    const counter = counting()
    const proxy = await proxyFor([counter.url])
    const [cached, ...fresh] = reads(5, 2_000)
    await proxy.post(cached as object)
    counter.reset()
    const twin = { ...fresh[0], id: 'twin' }
    const notification = { jsonrpc: '2.0', method: 'eth_getBalance', params: [fresh[1]?.params[0], '0x6'] }
    const answered = await proxy.post([cached, ...fresh, twin, notification])
    expect(answered.json).toEqual(await relayItems([cached, ...fresh, twin]))
    // The four fresh reads in one request; the twin joined its original; the notification went on its own.
    expect(counter.requestSizes('eth_getBalance').sort()).toEqual([1, 4])
    expect(counter.count('eth_getBalance')).toBe(5)
  })
})

describe('providers that refuse batches', () => {
  const refusals: [string, (calls: any[]) => Response][] = [
    ['a JSON-RPC error object', () => rpcErrorResponse(null, -32600, 'batch requests are not supported on this plan')],
    ['HTTP 405 with text', () => new Response('Method Not Allowed', { status: 405 })],
    ['an answer to the first call only', (calls) => Response.json({ jsonrpc: '2.0', id: calls[0].id, result: '0x0' })],
    ['an empty array', () => Response.json([])],
    ['an array of garbage', (calls) => Response.json(calls.map(() => 'nope'))],
  ]
  for (const [name, refuse] of refusals) {
    test(`behavior: a provider refusing with ${name} gets single calls, answers stay right, no strike`, async () => {
      const provider = gateway(refuse)
      const proxy = await proxyFor([provider.url], { maxFailures: 1 })
      const first = reads(30, 3_000)
      expect((await proxy.post(first)).json).toEqual(await relayItems(first))
      expect(arrays(provider).length).toBe(1)
      expect(singles(provider, 'eth_getBalance')).toBe(30)
      // Learned: the next batch goes one by one at once.
      const second = reads(20, 4_000)
      expect((await proxy.post(second)).json).toEqual(await relayItems(second))
      expect(arrays(provider).length).toBe(1)
      expect(singles(provider, 'eth_getBalance')).toBe(50)
      const view = (await proxy.call('edb_providers')).result
      expect(view.providers[0]).toMatchObject({ is_healthy: true, consecutive_failures: 0 })
      expect(await metric(proxy, 'edb_proxy_upstream_batches_refused')).toBe(1)
    })
  }

  test('behavior: a batch answer past the response cap sends its calls again one by one, each under its own cap', async () => {
    // Valid JSON, padded past 4 KiB: each single answer is well under it.
    const provider = gateway(
      async (calls) => new Response(`${JSON.stringify(await relayItems(calls))}${' '.repeat(8_192)}`),
    )
    const proxy = await proxyFor([provider.url], { maxResponseBytes: 4_096 })
    const batch = reads(20, 5_500)
    expect((await proxy.post(batch)).json).toEqual(await relayItems(batch))
    expect(arrays(provider).length).toBe(1)
    expect(singles(provider, 'eth_getBalance')).toBe(20)
  })

  test('behavior: calls a batch answer leaves out are sent again on their own', async () => {
    const provider = gateway(async (calls) => {
      const answers = await relayItems(calls)
      return Response.json(answers.filter((answer) => answer.id % 7 !== 3))
    })
    const proxy = await proxyFor([provider.url])
    const batch = reads(30, 5_000)
    expect((await proxy.post(batch)).json).toEqual(await relayItems(batch))
    const left = batch.filter((call) => call.id % 7 === 3).length
    expect(singles(provider, 'eth_getBalance')).toBe(left)
    // Some answered: batches still go to it.
    expect(await metric(proxy, 'edb_proxy_upstream_batches_refused')).toBe(0)
  })
})

describe('each call keeps its own failover and classification', () => {
  test('behavior: a revert inside a batch is its call’s answer, verbatim, beside the others’ results', async () => {
    const counter = counting()
    const proxy = await proxyFor([counter.url])
    // Creation code that reverts at once: eth_call without `to` runs it.
    const revert = { jsonrpc: '2.0', id: 'revert', method: 'eth_call', params: [{ data: '0x60006000fd' }, '0x5'] }
    const batch = [...reads(10, 6_000), revert]
    const expected = await relayItems(batch)
    expect(expected.at(-1).error).toBeDefined()
    expect((await proxy.post(batch)).json).toEqual(expected)
    expect(counter.count('eth_call')).toBe(1)
    expect(counter.requestSizes('eth_getBalance')).toEqual([11])
  })

  test('behavior: one call rate-limited inside a batch fails over alone to the other provider', async () => {
    const limited = new Set<string>()
    const first = gateway(async (calls) => {
      const answers = await relayItems(calls)
      return Response.json(
        answers.map((answer, index) =>
          limited.has(calls[index].params[0])
            ? { jsonrpc: '2.0', id: answer.id, error: { code: -32005, message: 'daily request limit reached' } }
            : answer,
        ),
      )
    })
    const second = gateway(async (calls) => Response.json(await relayItems(calls)))
    const proxy = await proxyFor([first.url, second.url], { maxFailures: 100 })
    // Each call picks its own provider order, so a batch splits between the two: run until the first has had a limited call.
    const limitedAtFirst = () => arrays(first).some((hit) => hit.body.some((call: any) => limited.has(call.params[0])))
    for (let round = 0; round < 20 && !limitedAtFirst(); round++) {
      const batch = reads(10, 8_000 + round * 100)
      for (const call of batch.slice(0, 5)) limited.add(call.params[0] as string)
      expect((await proxy.post(batch)).json).toEqual(await relayItems(batch))
    }
    expect(limitedAtFirst()).toBe(true)
    // Every limited call the first provider refused was then asked of the second, and answered.
    const askedOfSecond = new Set([...second.hits.flatMap((hit) => [hit.body].flat())].map((call) => call.params?.[0]))
    const refusedAtFirst = arrays(first).flatMap((hit) =>
      hit.body.filter((call: any) => limited.has(call.params[0])).map((call: any) => call.params[0]),
    )
    expect(refusedAtFirst.every((address: string) => askedOfSecond.has(address))).toBe(true)
  })

  const batchFaults: [string, () => Response][] = [
    ['HTTP 429', () => new Response('slow down', { status: 429 })],
    ['HTTP 502', () => new Response('bad gateway', { status: 502 })],
    ['a garbage 200 body', () => new Response('<html>oops</html>', { status: 200 })],
    ['no answer at all', () => new Promise<Response>(() => {}) as unknown as Response],
  ]
  for (const [name, fault] of batchFaults) {
    test(`behavior: a whole batch met with ${name} fails over call by call, and is not a refusal`, async () => {
      const broken = gateway(fault)
      const good = gateway(async (calls) => Response.json(await relayItems(calls)))
      const proxy = await proxyFor([broken.url, good.url], { maxFailures: 100, upstreamTimeoutMs: 300 })
      for (let round = 0; round < 3; round++) {
        const batch = reads(12, 7_000 + round * 100)
        expect((await proxy.post(batch)).json).toEqual(await relayItems(batch))
      }
      // It was a fault, not a refusal: batches still go to it when it is picked.
      expect(await metric(proxy, 'edb_proxy_upstream_batches_refused')).toBe(0)
      expect(singles(broken, 'eth_getBalance')).toBe(0)
    })
  }
})

/** `count` distinct eth_calls of the identity precompile at block 5, each carrying `hexChars` of calldata. */
const bulkyCalls = (count: number, hexChars: number, offset = 0) =>
  Array.from({ length: count }, (_, index) => ({
    jsonrpc: '2.0',
    id: index,
    method: 'eth_call',
    params: [
      {
        to: '0x0000000000000000000000000000000000000004',
        data: `0x${(offset + index)
          .toString(16)
          .padStart(8, '0')
          .repeat(hexChars / 8)}`,
      },
      '0x5',
    ],
  }))

/** anvil's own answers, asked in batches small enough for it. */
async function anvilAnswers(calls: any[]): Promise<any[]> {
  const answers: any[] = []
  for (let at = 0; at < calls.length; at += 20) {
    const chunk = calls.slice(at, at + 20)
    const response = await fetch(anvil.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(chunk),
    })
    answers.push(...((await response.json()) as any[]))
  }
  return answers
}

/** A request's body size as the upstream saw it. */
const bodyBytes = (hit: { headers: Headers }) => Number(hit.headers.get('content-length'))

/**
 * A provider in front of anvil that resets the connection (closes it unanswered) on any request
 * whose body passes `maxBytes`, as anvil and many gateways do; the rest it relays. Raw TCP: an HTTP
 * server would read the body and answer.
 */
function resettingGateway(maxBytes: number) {
  const sizes: number[] = []
  let resets = 0
  const listener = Bun.listen<{ buffer: Buffer }>({
    hostname: '127.0.0.1',
    port: 0,
    socket: {
      open(socket) {
        socket.data = { buffer: Buffer.alloc(0) }
      },
      async data(socket, chunk) {
        socket.data.buffer = Buffer.concat([socket.data.buffer, chunk])
        const headEnd = socket.data.buffer.indexOf('\r\n\r\n')
        if (headEnd < 0) return
        const length = Number(
          /content-length:\s*(\d+)/i.exec(socket.data.buffer.subarray(0, headEnd).toString())?.[1] ?? 0,
        )
        if (length > maxBytes) {
          resets += 1
          socket.terminate()
          return
        }
        if (socket.data.buffer.length < headEnd + 4 + length) return
        const body = socket.data.buffer.subarray(headEnd + 4, headEnd + 4 + length).toString()
        socket.data.buffer = socket.data.buffer.subarray(headEnd + 4 + length)
        sizes.push(length)
        const answer = await (
          await fetch(anvil.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
        ).text()
        socket.write(
          `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(answer)}\r\n\r\n${answer}`,
        )
      },
    },
  })
  cleanup.push(async () => listener.stop(true))
  return { url: `http://127.0.0.1:${listener.port}`, sizes, resets: () => resets }
}

describe('upstream batches bounded by bytes', () => {
  test('behavior: 1,000 eth_calls of ~30 KB each in one client batch all get anvil’s answers', async () => {
    const calls = bulkyCalls(1_000, 30_000)
    const proxy = await proxyFor([anvil.url])
    const answered = await proxy.post(calls)
    expect(answered.status).toBe(200)
    expect(answered.json).toEqual(await anvilAnswers(calls))
    // Batches anvil takes (it answers one past 2 MB with -32600): none was refused, so batching goes on.
    expect(await metric(proxy, 'edb_proxy_upstream_batches_refused')).toBe(0)
    expect(await metric(proxy, 'edb_proxy_upstream_batched_calls_total')).toBe(1_000)
  }, 60_000)

  test('behavior: --upstream-batch-bytes bounds every upstream batch, calls of any size still batched together', async () => {
    const counter = counting()
    const proxy = await proxyFor([counter.url], { upstreamBatchBytes: 100_000 })
    const calls = bulkyCalls(60, 10_000, 10_000)
    expect((await proxy.post(calls)).json).toEqual(await anvilAnswers(calls))
    const sizes = counter.requestSizes('eth_call')
    expect(Math.max(...sizes)).toBeGreaterThan(1)
    expect(sizes.reduce((sum, size) => sum + size, 0)).toBe(60)
    // Ten calls of ~10 KB fit under 100,000 bytes, a few more do not.
    expect(sizes.length).toBeGreaterThanOrEqual(6)
    expect(sizes.length).toBeLessThanOrEqual(8)
  }, 30_000)

  test('behavior: a provider resetting the connection on a large batch gets it split and resent, every call answered, no strike', async () => {
    const provider = resettingGateway(64_000)
    const proxy = await proxyFor([provider.url], { maxFailures: 1 })
    const calls = bulkyCalls(100, 2_000, 20_000)
    expect((await proxy.post(calls)).json).toEqual(await anvilAnswers(calls))
    expect(provider.resets()).toBeGreaterThan(0)
    expect(Math.max(...provider.sizes)).toBeLessThanOrEqual(64_000)
    // Split into smaller batches, not single calls for ten minutes: it did not refuse batches.
    expect(provider.sizes.length).toBeLessThan(20)
    expect(await metric(proxy, 'edb_proxy_upstream_batches_refused')).toBe(0)
    const view = (await proxy.call('edb_providers')).result
    expect(view.providers[0]).toMatchObject({ is_healthy: true, consecutive_failures: 0 })
    // The size it took is remembered: the next client batch goes in sizes it accepts at once.
    const before = provider.resets()
    const more = bulkyCalls(100, 2_000, 30_000)
    expect((await proxy.post(more)).json).toEqual(await anvilAnswers(more))
    expect(provider.resets()).toBe(before)
  }, 30_000)

  test('behavior: HTTP 413 to a large batch splits it the same way, no strike', async () => {
    const provider = gateway(async (calls) =>
      JSON.stringify(calls).length > 64_000
        ? new Response('Payload Too Large', { status: 413 })
        : Response.json(await relayItems(calls)),
    )
    const proxy = await proxyFor([provider.url], { maxFailures: 1 })
    const calls = bulkyCalls(100, 2_000, 40_000)
    expect((await proxy.post(calls)).json).toEqual(await anvilAnswers(calls))
    expect(arrays(provider).some((hit) => bodyBytes(hit) > 64_000)).toBe(true)
    expect(singles(provider, 'eth_call')).toBe(0)
    expect(await metric(proxy, 'edb_proxy_upstream_batches_refused')).toBe(0)
    expect((await proxy.call('edb_providers')).result.providers[0]).toMatchObject({
      is_healthy: true,
      consecutive_failures: 0,
    })
  }, 30_000)

  test('behavior: a single call larger than the provider takes still fails as a network error; its batch mates are answered', async () => {
    const provider = resettingGateway(64_000)
    const proxy = await proxyFor([provider.url], { maxFailures: 100 })
    const [huge] = bulkyCalls(1, 80_000, 50_000)
    const small = bulkyCalls(10, 2_000, 50_100).map((call) => ({ ...call, id: call.id + 1 }))
    const answered = (await proxy.post([huge, ...small])).json
    expect(answered.slice(1)).toEqual(await anvilAnswers(small))
    expect(answered[0]).toMatchObject({ id: 0, error: { code: -32002 } })
    expect(answered[0].error.data.attempts).toEqual([expect.objectContaining({ failure: 'network' })])
  }, 30_000)
})

describe('isConnectionReset', () => {
  const cases: [string, unknown, boolean][] = [
    [
      'Bun: ECONNRESET',
      Object.assign(new TypeError('The socket connection was closed unexpectedly'), { code: 'ECONNRESET' }),
      true,
    ],
    ['Node: a broken pipe while uploading', Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }), true],
    [
      'undici: the other side closed, as the cause',
      new TypeError('fetch failed', {
        cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }),
      }),
      true,
    ],
    ['Deno: the message', new TypeError('error sending request: connection reset'), true],
    ['a refused connection', Object.assign(new TypeError('Unable to connect'), { code: 'ECONNREFUSED' }), false],
    ['an abort', new DOMException('The operation was aborted.', 'AbortError'), false],
    ['not an error', 'ECONNRESET', false],
  ]
  for (const [name, error, expected] of cases)
    test(`behavior: ${name}`, () => expect(isConnectionReset(error)).toBe(expected))
})
