import { afterEach, describe, expect, test } from 'bun:test'
import { freePort } from '../helpers/ports.ts'
import { startProxy, type TestProxy } from '../helpers/proxy.ts'
import { rpcErrorResponse, type ScriptedUpstream, startScriptedUpstream } from '../helpers/upstream.ts'

const SECRET = '0123456789abcdef0123456789abcdef'
const cleanup: (() => Promise<void>)[] = []
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()!()
})

function upstream(handler: Parameters<typeof startScriptedUpstream>[0], path?: string): ScriptedUpstream {
  const server = startScriptedUpstream(
    (call, hit) => (call?.method === 'eth_chainId' ? '0x1' : handler(call, hit)),
    path,
  )
  cleanup.push(() => server.stop())
  return server
}

async function proxyFor(urls: string[], overrides = {}): Promise<TestProxy> {
  const proxy = await startProxy({ rpcUrls: urls, upstreamTimeoutMs: 500, ...overrides })
  cleanup.unshift(() => proxy.stop())
  return proxy
}

const callsTo = (server: ScriptedUpstream, method: string) =>
  server.hits.filter((hit) => hit.body?.method === method).length

describe('forwarding', () => {
  test('default', async () => {
    const good = upstream((call) => ({ method: call.method, params: call.params }))
    const proxy = await proxyFor([good.url])
    expect(await proxy.call('eth_getBalance', ['0xabc', '0x1'], 'me')).toEqual({
      jsonrpc: '2.0',
      id: 'me',
      result: { method: 'eth_getBalance', params: ['0xabc', '0x1'] },
    })
  })

  const faults: [string, Parameters<typeof startScriptedUpstream>[0]][] = [
    ['HTTP 503', () => new Response('busy', { status: 503 })],
    [
      'HTTP 500 with a JSON body',
      (call) => Response.json({ jsonrpc: '2.0', id: call.id, result: 'wrong' }, { status: 500 }),
    ],
    ['HTTP 429', () => new Response('slow down', { status: 429 })],
    ['a garbage body', () => new Response('<html>oops</html>')],
    ['a JSON body that is not a response', () => Response.json({ hello: 'world' })],
    [
      'a compact answer with junk after it',
      (call) => new Response(`{"jsonrpc":"2.0","id":${call.id},"result":"0x1"}junk`),
    ],
    [
      'a compact answer with a stray brace after it',
      (call) => new Response(`{"jsonrpc":"2.0","id":${call.id},"result":"0x1"} }`),
    ],
    ['a rate-limit JSON-RPC error', (call) => rpcErrorResponse(call, -32005, 'limit exceeded')],
    ['an internal JSON-RPC error', (call) => rpcErrorResponse(call, -32603, 'internal error')],
    [
      'a hang past the timeout',
      async () => {
        await Bun.sleep(3_000)
        return Response.json({ jsonrpc: '2.0', id: 1, result: 'too late' })
      },
    ],
  ]
  for (const [name, fault] of faults) {
    test(`behavior: ${name} moves on to the next provider`, async () => {
      // The fault meets the calls counted here only: a rate limit met by a background call would pace the provider out of reach.
      const bad = upstream((call, hit) => (call?.method === 'eth_gasPrice' ? fault(call, hit) : '0x1'))
      const good = upstream(() => '0xgood')
      const proxy = await proxyFor([bad.url, good.url])
      // the order is weighted-random: call until the faulty provider has been tried first at least once
      let calls = 0
      while (calls < 50 && callsTo(bad, 'eth_gasPrice') === 0) {
        expect(await proxy.call('eth_gasPrice', [], calls)).toEqual({ jsonrpc: '2.0', id: calls, result: '0xgood' })
        calls++
      }
      expect(callsTo(good, 'eth_gasPrice')).toBe(calls)
      expect(callsTo(bad, 'eth_gasPrice')).toBeGreaterThan(0)
    })
  }

  test('behavior: a result is relayed as the node wrote it (numbers past 2^53, escapes); odd forms still give valid JSON', async () => {
    const answers = [
      '{"result":{"big":123456789012345678901234567890,"s":"\\u00e9\\n"}}',
      '{"result":1,"result":2}',
      '{"result":[1,2] ,"extra":true}',
      '{"result":"0x1"}\n',
    ]
    const node = upstream((call) => {
      if (call.method !== 'eth_call') return '0x1'
      const rest = answers[Number(call.params[0])]!.slice(1)
      return new Response(`{"jsonrpc":"2.0","id":${call.id},${rest}`)
    })
    const proxy = await proxyFor([node.url])
    const texts: string[] = []
    for (let index = 0; index < answers.length; index++) {
      const response = await fetch(proxy.url, {
        method: 'POST',
        body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'eth_call', params: [index] }),
      })
      texts.push(await response.text())
    }
    expect(texts[0]).toBe('{"jsonrpc":"2.0","id":9,"result":{"big":123456789012345678901234567890,"s":"\\u00e9\\n"}}')
    expect(JSON.parse(texts[1]!)).toEqual({ jsonrpc: '2.0', id: 9, result: 2 })
    expect(JSON.parse(texts[2]!)).toEqual({ jsonrpc: '2.0', id: 9, result: [1, 2] })
    expect(JSON.parse(texts[3]!)).toEqual({ jsonrpc: '2.0', id: 9, result: '0x1' })
  })

  test('behavior: a refused connection moves on to the next provider', async () => {
    const good = upstream(() => '0xgood')
    const proxy = await proxyFor([`http://127.0.0.1:${freePort()}`, good.url])
    for (let id = 0; id < 3; id++) expect((await proxy.call('eth_blockNumber', [], id)).result).toBe('0xgood')
  })

  test('behavior: an upstream JSON-RPC error is relayed verbatim with one upstream call', async () => {
    const error = { code: 3, message: 'execution reverted: no', data: '0x08c379a0' }
    const nodes = [0, 1].map(() => upstream((call) => Response.json({ jsonrpc: '2.0', id: call.id, error })))
    const proxy = await proxyFor(nodes.map((node) => node.url))
    expect(await proxy.call('eth_call', [{ to: '0x01' }, 'latest'], 'rev')).toEqual({
      jsonrpc: '2.0',
      id: 'rev',
      error,
    })
    expect(nodes.map((node) => callsTo(node, 'eth_call')).sort()).toEqual([0, 1])
  })

  test('behavior: an upstream 204 to a notification is a success, not a failure', async () => {
    const node = upstream(() => new Response(null, { status: 204 }))
    const other = upstream(() => new Response(null, { status: 204 }))
    const proxy = await proxyFor([node.url, other.url])
    const reply = await proxy.post({ jsonrpc: '2.0', method: 'eth_sendRawTransaction', params: ['0x02'] })
    expect(reply.status).toBe(204)
    expect(callsTo(node, 'eth_sendRawTransaction') + callsTo(other, 'eth_sendRawTransaction')).toBe(1)
  })

  test('behavior: when every provider fails the caller gets -32002 naming the redacted attempts', async () => {
    const keyed = upstream(() => new Response('down', { status: 502 }), `/v3/${SECRET}`)
    const garbage = upstream(() => new Response('nope'))
    const refused = `http://user:pass@127.0.0.1:${freePort()}/rpc?apikey=${SECRET}`
    const proxy = await proxyFor([keyed.url, garbage.url, refused])
    const response = await fetch(proxy.url, {
      method: 'POST',
      body: JSON.stringify({ jsonrpc: '2.0', id: 'x', method: 'eth_blockNumber' }),
    })
    const text = await response.text()
    expect(response.status).toBe(200)
    expect(text).not.toContain(SECRET)
    expect(text).not.toContain('pass')
    const reply = JSON.parse(text)
    expect(reply.id).toBe('x')
    expect(reply.error.code).toBe(-32002)
    expect(reply.error.message).toBe('All 3 upstream attempts failed')
    const attempts = reply.error.data.attempts.map((attempt: any) => [
      attempt.provider.replace(/:\d+/, ':PORT').replace(/<#[0-9a-f]{8}>/, '<#fp>'),
      attempt.failure,
    ])
    expect(attempts.sort()).toEqual([
      ['http://127.0.0.1:PORT', 'invalid-body'],
      ['http://127.0.0.1:PORT/<#fp>', 'http-status'],
      ['http://127.0.0.1:PORT/<#fp>', 'network'],
    ])
  })

  test('behavior: cache-only mode answers a miss with an error at once', async () => {
    const proxy = await proxyFor([])
    const reply = await proxy.call('eth_getBalance', ['0x01', '0x1'], 2)
    expect(reply.id).toBe(2)
    expect(reply.error.code).toBe(-32002)
    expect(reply.error.message).toContain('cache-only')
    const health = await (await fetch(`${proxy.url}/health`)).json()
    expect(health).toMatchObject({ status: 'ok', mode: 'cache-only', chain_id: 1 })
  })

  test('behavior: /health is 503 once every provider has failed repeatedly', async () => {
    const down = upstream(() => new Response('down', { status: 503 }))
    const proxy = await proxyFor([down.url], { maxFailures: 2 })
    for (let id = 0; id < 2; id++) expect((await proxy.call('eth_blockNumber', [], id)).error.code).toBe(-32002)
    const response = await fetch(`${proxy.url}/health`)
    expect(response.status).toBe(503)
    expect(await response.json()).toMatchObject({ status: 'unavailable', healthy_providers: 0, total_providers: 1 })
  })
})

describe('upstream errors quoting secrets', () => {
  test('behavior: an upstream error message quoting its own URL reaches the client redacted', async () => {
    const node = upstream(
      (call) =>
        rpcErrorResponse(call, -32602, `invalid argument for http://127.0.0.1:${new URL(node.url).port}/v3/${SECRET}`),
      `/v3/${SECRET}`,
    )
    const proxy = await proxyFor([node.url])
    const reply = await proxy.call('eth_getBalance', ['0x01', '0x1'], 3)
    expect(reply.error.code).toBe(-32602)
    expect(reply.error.message).toStartWith('invalid argument for http://127.0.0.1:')
    expect(reply.error.message).not.toContain(SECRET)
  })
})

describe('params as written', () => {
  test('behavior: an integer past 2^53 inside params reaches the upstream with every digit', async () => {
    const bodies: string[] = []
    const server = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      async fetch(request) {
        const text = await request.text()
        bodies.push(text)
        const call = JSON.parse(text)
        return Response.json({ jsonrpc: '2.0', id: call.id, result: call.method === 'eth_chainId' ? '0x1' : '0x0' })
      },
    })
    cleanup.push(async () => {
      await server.stop(true)
    })
    const proxy = await proxyFor([`http://127.0.0.1:${server.port}`])
    const reply = await proxy.post(
      '{"jsonrpc":"2.0","id":5,"method":"eth_estimateGas","params":[{"to":"0x1","value":123456789012345678901234567}]}',
    )
    expect(reply.json).toEqual({ jsonrpc: '2.0', id: 5, result: '0x0' })
    expect(bodies.some((text) => text.includes('"value":123456789012345678901234567'))).toBe(true)
  })
})
