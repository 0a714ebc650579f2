import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { startProxy, type TestProxy } from '../helpers/proxy.ts'
import { type ScriptedUpstream, startScriptedUpstream } from '../helpers/upstream.ts'

let upstream: ScriptedUpstream
let proxy: TestProxy

beforeAll(async () => {
  upstream = startScriptedUpstream((call) => (call.method === 'eth_chainId' ? '0x1' : { echo: call.method }))
  proxy = await startProxy({ rpcUrls: [upstream.url], maxBodyBytes: 64 * 1024, maxBatchSize: 5 })
})
afterAll(async () => {
  await proxy.stop()
  await upstream.stop()
})

const call = (method: string, id: unknown = 1, params: unknown = []) => ({ jsonrpc: '2.0', id, method, params })
const stillServing = async () =>
  expect(await proxy.call('eth_chainId', [], 'alive')).toEqual({ jsonrpc: '2.0', id: 'alive', result: '0x1' })

describe('POST /', () => {
  test('default', async () => {
    const reply = await proxy.post(call('eth_blockNumber', 42))
    expect(reply.status).toBe(200)
    expect(reply.headers.get('content-type')).toBe('application/json')
    expect(reply.json).toEqual({ jsonrpc: '2.0', id: 42, result: { echo: 'eth_blockNumber' } })
  })

  test("behavior: every answer carries the caller's own id", async () => {
    for (const id of [0, -7, 1.5, 2 ** 53 - 1, 'abc', '', null]) {
      expect((await proxy.post(call('eth_chainId', id))).json).toEqual({ jsonrpc: '2.0', id, result: '0x1' })
      expect((await proxy.post(call('edb_ping', id))).json.id).toEqual(id)
    }
  })

  test('behavior: a batch answers in request order, notifications get no entry', async () => {
    const reply = await proxy.post([
      call('eth_chainId', 'a'),
      { jsonrpc: '2.0', method: 'eth_blockNumber' },
      call('edb_ping', 'b'),
      call('net_version', 'c'),
    ])
    expect(reply.json.map((entry: any) => entry.id)).toEqual(['a', 'b', 'c'])
    expect(reply.json[0]).toEqual({ jsonrpc: '2.0', id: 'a', result: '0x1' })
    expect(reply.json[1].result.status).toBe('ok')
  })

  test('behavior: only notifications → HTTP 204, and they still reach the upstream', async () => {
    const before = upstream.hits.length
    const single = await proxy.post({ jsonrpc: '2.0', method: 'eth_sendRawTransaction', params: ['0x01'] })
    const batch = await proxy.post([
      { jsonrpc: '2.0', method: 'eth_blockNumber' },
      { jsonrpc: '2.0', method: 'net_version' },
    ])
    expect([single.status, single.json, batch.status, batch.json]).toEqual([204, null, 204, null])
    const forwarded = upstream.hits.slice(before).map((hit) => hit.body)
    expect(forwarded).toContainEqual({ jsonrpc: '2.0', method: 'eth_sendRawTransaction', params: ['0x01'] })
    expect(forwarded.every((body) => !('id' in body))).toBe(true)
  })

  test('behavior: the body is accepted whatever the content type', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', '']) {
      const response = await fetch(proxy.url, {
        method: 'POST',
        headers: { 'content-type': type },
        body: JSON.stringify(call('eth_chainId', type)),
      })
      expect(await response.json()).toEqual({ jsonrpc: '2.0', id: type, result: '0x1' })
    }
  })

  test('behavior: unknown edb_ methods are -32601 and never forwarded', async () => {
    const before = upstream.hits.length
    expect(await proxy.call('edb_nope', [], 3)).toEqual({
      jsonrpc: '2.0',
      id: 3,
      error: { code: -32601, message: 'Method not found: edb_nope' },
    })
    expect(upstream.hits.length).toBe(before)
  })
})

describe('garbage input', () => {
  const cases: [string, string, number, unknown][] = [
    ['invalid JSON', '{"jsonrpc":', -32700, null],
    ['empty body', '', -32700, null],
    ['binary noise', '\u0000\u00ff\u0001', -32700, null],
    ['a bare number', '5', -32600, null],
    ['a bare string', '"eth_chainId"', -32600, null],
    ['null', 'null', -32600, null],
    ['empty batch', '[]', -32600, null],
    ['oversized batch', JSON.stringify(Array.from({ length: 6 }, (_, i) => call('eth_chainId', i))), -32600, null],
    ['wrong jsonrpc', '{"jsonrpc":"1.0","id":9,"method":"eth_chainId"}', -32600, 9],
    ['numeric method', '{"jsonrpc":"2.0","id":9,"method":1}', -32600, 9],
    ['string params', '{"jsonrpc":"2.0","id":9,"method":"eth_chainId","params":"x"}', -32600, 9],
    ['object id', '{"jsonrpc":"2.0","id":{"a":1},"method":"eth_chainId"}', -32600, null],
    [
      'deeply nested params',
      `{"jsonrpc":"2.0","id":9,"method":"eth_call","params":${'['.repeat(30_000)}${']'.repeat(30_000)}}`,
      -32600,
      9,
    ],
  ]
  for (const [name, body, code, id] of cases) {
    test(`behavior: ${name} → ${code}, HTTP 200, and the proxy keeps serving`, async () => {
      const reply = await proxy.post(body)
      expect(reply.status).toBe(200)
      expect(reply.json.jsonrpc).toBe('2.0')
      expect(reply.json.id).toEqual(id)
      expect(reply.json.error.code).toBe(code)
      expect(typeof reply.json.error.message).toBe('string')
      await stillServing()
    })
  }

  test('behavior: a batch mixing garbage and calls answers each element', async () => {
    const reply = await proxy.post(`[1, {"jsonrpc":"2.0","id":"ok","method":"eth_chainId"}, {"id":"x"}]`)
    expect(reply.json).toEqual([
      { jsonrpc: '2.0', id: null, error: { code: -32600, message: 'Invalid request: a call must be a JSON object' } },
      { jsonrpc: '2.0', id: 'ok', result: '0x1' },
      { jsonrpc: '2.0', id: 'x', error: { code: -32600, message: 'Invalid request: "jsonrpc" must be exactly "2.0"' } },
    ])
  })

  test('behavior: a body over the limit is HTTP 413 with a JSON-RPC error', async () => {
    const reply = await proxy.post(JSON.stringify(call('eth_call', 1, ['x'.repeat(70 * 1024)])))
    expect(reply.status).toBe(413)
    expect(reply.json).toEqual({
      jsonrpc: '2.0',
      id: null,
      error: { code: -32600, message: 'Request body too large: the limit is 65536 bytes' },
    })
    await stillServing()
  })

  test('behavior: a streamed body without Content-Length is cut at the limit too', async () => {
    const chunk = new TextEncoder().encode('x'.repeat(16 * 1024))
    let sent = 0
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 10) controller.enqueue(chunk)
        else controller.close()
      },
    })
    const response = await fetch(proxy.url, { method: 'POST', body, duplex: 'half' } as RequestInit)
    expect(response.status).toBe(413)
    expect(((await response.json()) as any).error.code).toBe(-32600)
    await stillServing()
  })
})

describe('the runtime never answers first', () => {
  test('behavior: a 160 MiB body under the default 32 MiB limit gets HTTP 413 with a JSON-RPC error', async () => {
    const roomy = await startProxy({ rpcUrls: [upstream.url] })
    try {
      const body = JSON.stringify(call('eth_call', 1, ['x'.repeat(160 * 1024 * 1024)]))
      const response = await fetch(roomy.url, { method: 'POST', body })
      expect(response.status).toBe(413)
      expect(await response.json()).toEqual({
        jsonrpc: '2.0',
        id: null,
        error: { code: -32600, message: 'Request body too large: the limit is 33554432 bytes' },
      })
      expect(await roomy.call('eth_chainId', [], 'alive')).toEqual({ jsonrpc: '2.0', id: 'alive', result: '0x1' })
    } finally {
      await roomy.stop()
    }
  })
})

describe('GET /health', () => {
  test('default', async () => {
    const response = await fetch(`${proxy.url}/health`)
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({
      status: 'ok',
      mode: 'upstream',
      healthy_providers: 1,
      total_providers: 1,
    })
  })

  test('behavior: POST / with a query string is still JSON-RPC', async () => {
    const response = await fetch(`${proxy.url}/?client=x`, {
      method: 'POST',
      body: JSON.stringify(call('eth_chainId', 'q')),
    })
    expect(await response.json()).toEqual({ jsonrpc: '2.0', id: 'q', result: '0x1' })
  })

  test('behavior: another method on / is 405 (as the reference answers), naming what is allowed', async () => {
    for (const method of ['GET', 'PUT', 'DELETE', 'PATCH']) {
      const response = await fetch(proxy.url, { method })
      expect({ method, status: response.status, allow: response.headers.get('allow') }).toEqual({
        method,
        status: 405,
        allow: 'POST, OPTIONS',
      })
      expect(((await response.json()) as any).error.code).toBe(-32600)
    }
  })

  test('behavior: an answer from upstream names the (redacted) provider; a hit names none', async () => {
    const miss = await proxy.post(call('eth_blockNumber', 1))
    expect(miss.headers.get('x-provider')).toBe(upstream.url.replace(/\/$/, ''))
    const management = await proxy.post(call('edb_ping', 2))
    expect(management.headers.get('x-provider')).toBeNull()
  })

  test('behavior: other paths are 404 with a JSON-RPC error', async () => {
    const response = await fetch(`${proxy.url}/nope`, { method: 'POST', body: '{}' })
    expect(response.status).toBe(404)
    expect(((await response.json()) as any).error.code).toBe(-32601)
  })
})

describe('browser safety', () => {
  test('behavior: CORS preflight and data calls from a page are allowed', async () => {
    const preflight = await fetch(proxy.url, { method: 'OPTIONS', headers: { origin: 'http://dapp.test' } })
    expect(preflight.status).toBe(204)
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*')
    const reply = await proxy.post(call('eth_chainId', 5), { origin: 'http://dapp.test' })
    expect(reply.json.result).toBe('0x1')
    expect(reply.headers.get('access-control-allow-origin')).toBe('*')
  })

  test('behavior: a request with an Origin may not shut down or register', async () => {
    for (const method of ['edb_shutdown', 'edb_register']) {
      const reply = await proxy.post(call(method, 8, [process.pid, 1]), { origin: 'http://evil.test' })
      expect(reply.json).toEqual({
        jsonrpc: '2.0',
        id: 8,
        error: {
          code: -32010,
          message: `${method} refused: not allowed from a browser (the request carries an Origin header)`,
        },
      })
    }
    await stillServing()
  })

  test("behavior: a page may not change a dev node's state or use its keys unless its origin is allowed", async () => {
    for (const method of [
      'eth_sendTransaction',
      'eth_sign',
      'personal_unlockAccount',
      'evm_mine',
      'evm_snapshot',
      'anvil_setBalance',
      'hardhat_reset',
    ]) {
      const reply = await proxy.post(call(method, 12, []), { origin: 'https://evil.example' })
      expect({ method, error: reply.json.error?.code }).toEqual({ method, error: -32010 })
      expect(reply.json.error.message).toContain('may not change the node')
    }
    expect(
      upstream.hits.some((hit) => ['eth_sendTransaction', 'evm_mine', 'anvil_setBalance'].includes(hit.body?.method)),
    ).toBe(false)
    // Loopback pages (a local dapp's dev server) are allowed by default; data calls from any page are too.
    expect(
      (await proxy.post(call('eth_sendTransaction', 13, []), { origin: 'http://localhost:5173' })).json.result,
    ).toEqual({ echo: 'eth_sendTransaction' })
    expect((await proxy.post(call('eth_getBalance', 14, []), { origin: 'https://evil.example' })).json.result).toEqual({
      echo: 'eth_getBalance',
    })
    expect((await proxy.post(call('eth_sendTransaction', 15, []))).json.result).toEqual({ echo: 'eth_sendTransaction' })
  })

  test('behavior: a page cannot register a live pid through edb_heartbeat; a local client still can', async () => {
    const sleeper = Bun.spawn(['sleep', '30'])
    try {
      const refused = await proxy.post(call('edb_heartbeat', 9, [sleeper.pid]), { origin: 'http://evil.test' })
      expect(refused.json).toEqual({
        jsonrpc: '2.0',
        id: 9,
        error: {
          code: -32010,
          message:
            'edb_heartbeat may not register an unknown pid: not allowed from a browser (the request carries an Origin header)',
        },
      })
      expect((await proxy.call('edb_active_instances')).result.active_instances).not.toContain(sleeper.pid)
      expect((await proxy.post(call('edb_heartbeat', 10, [sleeper.pid]))).json.result).toMatchObject({
        status: 'ok',
        pid: sleeper.pid,
      })
      // Known now: a page's heartbeat keeps it alive (it registers nothing new).
      expect(
        (await proxy.post(call('edb_heartbeat', 11, [sleeper.pid]), { origin: 'http://evil.test' })).json.result.status,
      ).toBe('ok')
    } finally {
      sleeper.kill()
      await sleeper.exited
    }
  })

  test('behavior: a non-loopback Host is refused while bound to loopback (DNS rebinding)', async () => {
    for (const host of ['evil.example', 'evil.example:8546', '192.168.1.5']) {
      const reply = await proxy.post(call('edb_ping'), { host })
      expect(reply.status).toBe(403)
      expect(reply.json.error.code).toBe(-32010)
    }
    for (const host of ['localhost:1', '127.0.0.1', '[::1]:8546', 'app.localhost']) {
      expect((await proxy.post(call('edb_ping'), { host })).status).toBe(200)
    }
  })
})
