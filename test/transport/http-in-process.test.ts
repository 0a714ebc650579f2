import { describe, expect, test } from 'bun:test'
import type { HealthReport } from '../../src/health.ts'
import { createSocketCounters } from '../../src/metrics/socket-counters.ts'
import { RateLimitedError } from '../../src/rpc/errors.ts'
import type { RpcCall } from '../../src/rpc/types.ts'
import { type AppOptions, createApp } from '../../src/transport/http/app.ts'
import { createScriptedPipeline, type ScriptedAnswer } from './scripted-pipeline.ts'

const HEALTH = { status: 'ok', mode: 'upstream', chain_id: 1 } as unknown as HealthReport

/** The app with a scripted pipeline behind the seam: every request in process, no socket. */
function inProcessApp(script: (call: RpcCall) => ScriptedAnswer, access: Partial<AppOptions['access']> = {}) {
  const unexpected: unknown[] = []
  const pipeline = createScriptedPipeline(script)
  const app = createApp({
    pipeline,
    access: { loopbackBound: true, ...access },
    maxBodyBytes: 1024,
    health: () => HEALTH,
    metrics: { contentType: 'text/plain', text: async () => 'edb_up 1\n' },
    onUnexpected: (error) => void unexpected.push(error),
    streams: {
      hub: { release() {} },
      counters: createSocketCounters(),
      maxConnections: 1,
      maxSubscriptions: 1,
      sendQueueBytes: 1 << 20,
    },
  })
  return { app, pipeline, unexpected }
}

/** Everything a client sees of a response. */
async function seen(response: Response) {
  const text = await response.text()
  const headers = Object.fromEntries(
    ['content-type', 'x-cache', 'x-provider', 'retry-after', 'allow'].flatMap((name) =>
      response.headers.has(name) ? [[name, response.headers.get(name)]] : [],
    ),
  )
  return { status: response.status, headers, json: text === '' ? null : JSON.parse(text) }
}

const post = (body: unknown, headers: Record<string, string> = {}) =>
  new Request('http://127.0.0.1/', {
    method: 'POST',
    headers: { host: '127.0.0.1', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
const call = (method: string, id: unknown = 1, params: unknown[] = []) => ({ jsonrpc: '2.0', id, method, params })

/** A cacheable method (a miss from provider p0, then hits), a rate-limited one, one that throws, an echo. */
function script(): (call: RpcCall) => ScriptedAnswer {
  let stored = false
  return (call) => {
    if (call.method === 'eth_getBlockByNumber') {
      if (stored) return { result: { number: '0x10' }, cache: 'HIT' }
      stored = true
      return { result: { number: '0x10' }, cache: 'MISS', provider: 'p0', later: true }
    }
    if (call.method === 'eth_limited') return { error: new RateLimitedError(7) }
    if (call.method === 'eth_throws') return { throws: new Error('secret detail'), later: call.params !== undefined }
    return { result: call.method, cache: 'BYPASS' }
  }
}

describe('the app in process', () => {
  test('default', async () => {
    const { app } = inProcessApp(script())
    const body = call('eth_getBlockByNumber', 7, ['0x10', false])
    const json = { jsonrpc: '2.0', id: 7, result: { number: '0x10' } }
    expect(await seen(await app.app.handle(post(body)))).toEqual({
      status: 200,
      headers: { 'content-type': 'application/json', 'x-cache': 'MISS', 'x-provider': 'p0' },
      json,
    })
    expect(await seen(await app.app.handle(post(body)))).toEqual({
      status: 200,
      headers: { 'content-type': 'application/json', 'x-cache': 'HIT' },
      json,
    })
  })

  test('behavior: the runtime-routed POST / (rootPost) answers exactly as the Elysia route', async () => {
    for (const body of [
      call('eth_chainId', 'a'),
      [call('eth_chainId', 'b')],
      'not json',
      { jsonrpc: '2.0', method: 'eth_blockNumber' },
    ]) {
      const viaElysia = await seen(await inProcessApp(script()).app.app.handle(post(body)))
      expect(await seen(await inProcessApp(script()).app.rootPost(post(body)))).toEqual(viaElysia)
    }
  })

  test('behavior: a batch answers in request order, notifications get no entry', async () => {
    const { app } = inProcessApp(script())
    const response = await app.rootPost(
      post([call('eth_chainId', 'a'), { jsonrpc: '2.0', method: 'eth_blockNumber' }, call('net_version', 'b')]),
    )
    expect(await seen(response)).toEqual({
      status: 200,
      headers: { 'content-type': 'application/json', 'x-cache': 'BYPASS' },
      json: [
        { jsonrpc: '2.0', id: 'a', result: 'eth_chainId' },
        { jsonrpc: '2.0', id: 'b', result: 'net_version' },
      ],
    })
  })

  test('behavior: only notifications → HTTP 204 with no body, and they still reach the pipeline', async () => {
    const { app, pipeline } = inProcessApp(script())
    const notification = { jsonrpc: '2.0', method: 'eth_sendRawTransaction', params: ['0x01'] }
    expect(await seen(await app.rootPost(post(notification)))).toEqual({ status: 204, headers: {}, json: null })
    expect(pipeline.bodies).toEqual([JSON.stringify(notification)])
  })

  test('behavior: a body over the limit is HTTP 413 with a JSON-RPC error, and never reaches the pipeline', async () => {
    const { app, pipeline } = inProcessApp(script())
    const response = await app.rootPost(post(call('eth_call', 1, ['x'.repeat(2048)])))
    expect(await seen(response)).toEqual({
      status: 413,
      headers: { 'content-type': 'application/json' },
      json: {
        jsonrpc: '2.0',
        id: null,
        error: { code: -32600, message: 'Request body too large: the limit is 1024 bytes' },
      },
    })
    expect(pipeline.bodies).toEqual([])
  })

  test('behavior: invalid JSON is -32700 with HTTP 200', async () => {
    const { app } = inProcessApp(script())
    expect(await seen(await app.rootPost(post('{"jsonrpc":')))).toEqual({
      status: 200,
      headers: { 'content-type': 'application/json', 'x-cache': 'BYPASS' },
      json: { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error: the body is not valid JSON' } },
    })
  })

  test('behavior: another method on / is 405 naming what is allowed; another path is 404', async () => {
    const { app } = inProcessApp(script())
    expect(await seen(await app.app.handle(new Request('http://127.0.0.1/', { method: 'PUT', body: '{}' })))).toEqual({
      status: 405,
      headers: { 'content-type': 'application/json', allow: 'POST, OPTIONS' },
      json: {
        jsonrpc: '2.0',
        id: null,
        error: { code: -32600, message: 'Method not allowed: JSON-RPC is served on POST /' },
      },
    })
    expect(await seen(await app.app.handle(new Request('http://127.0.0.1/nope')))).toEqual({
      status: 404,
      headers: { 'content-type': 'application/json' },
      json: { jsonrpc: '2.0', id: null, error: { code: -32601, message: 'Not found: JSON-RPC is served on POST /' } },
    })
  })

  test('behavior: the access chain refuses before the body is read (a foreign Host 403, a missing client token 401)', async () => {
    const open = inProcessApp(script())
    expect(await seen(await open.app.rootPost(post(call('eth_chainId'), { host: 'evil.example' })))).toEqual({
      status: 403,
      headers: { 'content-type': 'application/json' },
      json: {
        jsonrpc: '2.0',
        id: null,
        error: { code: -32010, message: 'Host "evil.example" is not allowed: the proxy only answers loopback names' },
      },
    })
    expect(
      (
        await seen(
          await open.app.app.handle(new Request('http://127.0.0.1/health', { headers: { host: 'evil.example' } })),
        )
      ).status,
    ).toBe(403)
    const guarded = inProcessApp(script(), { authToken: 'token-0123' })
    expect(await seen(await guarded.app.rootPost(post(call('eth_chainId'))))).toEqual({
      status: 401,
      headers: { 'content-type': 'application/json' },
      json: {
        jsonrpc: '2.0',
        id: null,
        error: { code: -32010, message: 'Unauthorized: send Authorization: Bearer <auth token>' },
      },
    })
    expect(
      (await seen(await guarded.app.rootPost(post(call('eth_chainId'), { authorization: 'Bearer token-0123' }))))
        .status,
    ).toBe(200)
    expect([open.pipeline.bodies, guarded.pipeline.bodies.length]).toEqual([[], 1])
  })

  test('behavior: a body whose every call the rate limit refused is HTTP 429 with Retry-After', async () => {
    const { app } = inProcessApp(script())
    const response = await seen(await app.rootPost(post(call('eth_limited'))))
    expect([response.status, response.headers['retry-after'], response.json.error.code]).toEqual([429, '7', -32005])
  })

  test('behavior: an exception in the pipeline is -32603 with fixed text (HTTP 500); the details go to onUnexpected only', async () => {
    const { app, unexpected } = inProcessApp(script())
    const internal = {
      status: 500,
      headers: { 'content-type': 'application/json' },
      json: { jsonrpc: '2.0', id: null, error: { code: -32603, message: 'Internal error' } },
    }
    expect(await seen(await app.rootPost(post({ jsonrpc: '2.0', id: 1, method: 'eth_throws' })))).toEqual(internal)
    expect(await seen(await app.rootPost(post(call('eth_throws'))))).toEqual(internal)
    expect(unexpected.map((error) => (error as Error).message)).toEqual(['secret detail', 'secret detail'])
  })

  test('behavior: CORS preflight, /health and /metrics are served', async () => {
    const { app } = inProcessApp(script())
    const preflight = await app.app.handle(new Request('http://127.0.0.1/', { method: 'OPTIONS' }))
    expect([
      preflight.status,
      preflight.headers.get('access-control-allow-origin'),
      preflight.headers.get('access-control-allow-methods'),
    ]).toEqual([204, '*', 'POST, GET, OPTIONS'])
    expect(await seen(await app.app.handle(new Request('http://127.0.0.1/health')))).toEqual({
      status: 200,
      headers: { 'content-type': 'application/json' },
      json: HEALTH,
    })
    expect(await (await app.app.handle(new Request('http://127.0.0.1/metrics'))).text()).toBe('edb_up 1\n')
  })
})
