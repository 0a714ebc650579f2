import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { startProxy, type TestProxy } from '../helpers/proxy.ts'
import { connectWs } from '../helpers/ws-client.ts'

const ADMIN = 'admin-secret-token'
const AUTH = 'client-secret-token'
let open: TestProxy
let guarded: TestProxy

beforeAll(async () => {
  // Bound to every interface, but only ever reached through loopback.
  open = await startProxy({ host: '0.0.0.0', rpcUrls: [] })
  guarded = await startProxy({ host: '0.0.0.0', rpcUrls: [], adminToken: ADMIN, authToken: AUTH })
})
afterAll(async () => {
  await open.stop()
  await guarded.stop()
})

async function post(proxy: TestProxy, method: string, token?: string) {
  return postWith(proxy, method, token ? { authorization: `Bearer ${token}` } : {})
}

async function postWith(
  proxy: TestProxy,
  method: string,
  headers: Record<string, string>,
  url = `http://127.0.0.1:${proxy.port}/`,
) {
  const response = await fetch(url, {
    method: 'POST',
    headers,
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params: [process.pid, 1] }),
  })
  return { status: response.status, json: (await response.json()) as any }
}

const basic = (credentials: string) => ({ authorization: `Basic ${btoa(credentials)}` })

/** Run a client as its own process and return what it printed. */
async function output(command: string[]): Promise<string> {
  const child = Bun.spawn(command, { stdout: 'pipe', stderr: 'pipe' })
  const [stdout, stderr] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text()])
  await child.exited
  return stdout + stderr
}

describe('tokens off loopback', () => {
  test('default', async () => {
    expect((await post(open, 'edb_ping')).json.result.status).toBe('ok')
  })

  test('behavior: without --admin-token, state-changing methods are refused off loopback', async () => {
    for (const method of ['edb_shutdown', 'edb_register']) {
      expect((await post(open, method)).json.error).toEqual({
        code: -32010,
        message: `${method} refused: bound to a non-loopback address: start the proxy with --admin-token to allow it`,
      })
    }
  })

  test('behavior: the auth token is required for every call; the admin token also passes', async () => {
    expect(await post(guarded, 'edb_ping')).toEqual({
      status: 401,
      json: {
        jsonrpc: '2.0',
        id: null,
        error: { code: -32010, message: 'Unauthorized: send Authorization: Bearer <auth token>' },
      },
    })
    expect((await post(guarded, 'edb_ping', 'wrong')).status).toBe(401)
    expect((await post(guarded, 'edb_ping', AUTH)).json.result.status).toBe('ok')
    expect((await post(guarded, 'edb_ping', ADMIN)).json.result.status).toBe('ok')
  })

  test('behavior: the admin token unlocks edb_register; the client token does not', async () => {
    expect((await post(guarded, 'edb_register', AUTH)).json.error.message).toBe(
      'edb_register refused: the admin token is required (Authorization: Bearer <admin token>)',
    )
    expect((await post(guarded, 'edb_register', ADMIN)).json.result).toEqual({ status: 'registered', pid: process.pid })
  })

  test("behavior: a token may come as HTTP Basic auth's password (a URL's user-info), with any user name", async () => {
    const ping = { jsonrpc: '2.0', id: 1, result: { status: 'ok' } }
    // curl -u sends Authorization: Basic base64("x:TOKEN").
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'edb_ping', params: [] })
    const curl = await output([
      'curl',
      '-s',
      '-u',
      `x:${AUTH}`,
      '-H',
      'content-type: application/json',
      '-d',
      body,
      `http://127.0.0.1:${guarded.port}/`,
    ])
    expect(JSON.parse(curl)).toMatchObject(ping)
    // Bun's fetch and Node's http turn a URL's user-info into the same header (Node's fetch refuses such URLs).
    expect(
      (await postWith(guarded, 'edb_ping', {}, `http://hardhat:${AUTH}@127.0.0.1:${guarded.port}/`)).json,
    ).toMatchObject(ping)
    const node = await output([
      'node',
      '-e',
      `require('http').request('http://user:${AUTH}@127.0.0.1:${guarded.port}/', { method: 'POST' }, (r) => { let s = ''; r.on('data', (d) => (s += d)); r.on('end', () => console.log(s)) }).end(${JSON.stringify(body)})`,
    ])
    expect(JSON.parse(node)).toMatchObject(ping)
    // No user name, and a password with a colon in it: only the first colon separates them.
    expect((await postWith(guarded, 'edb_ping', basic(`:${AUTH}`))).json).toMatchObject(ping)
    expect((await postWith(guarded, 'edb_register', basic(`anyone:${ADMIN}`))).json.result).toEqual({
      status: 'registered',
      pid: process.pid,
    })
    expect((await postWith(guarded, 'edb_register', basic(`anyone:${AUTH}`))).json.error.message).toBe(
      'edb_register refused: the admin token is required (Authorization: Bearer <admin token>)',
    )
  })

  test('behavior: a wrong or malformed Basic header is refused exactly like a wrong Bearer token', async () => {
    const wrongBearer = await post(guarded, 'edb_ping', 'wrong')
    expect(wrongBearer.status).toBe(401)
    for (const headers of [
      basic('x:wrong'),
      basic(`x:${AUTH}x`),
      // no colon: the whole text is no password
      basic(AUTH),
      // not base64
      { authorization: `Basic ${AUTH}!` },
      { authorization: `Basic ${btoa(`x:${AUTH}`).replace(/=+$/, '')}*` },
      { authorization: 'Basic' },
    ]) {
      expect(await postWith(guarded, 'edb_ping', headers)).toEqual(wrongBearer)
    }
  })

  test("behavior: a WebSocket upgrade with Basic auth is accepted (a ws:// URL's user-info); a wrong one is refused", async () => {
    const ws = await connectWs(`ws://user:${AUTH}@127.0.0.1:${guarded.port}`)
    expect((await ws.call('edb_ping')).result.status).toBe('ok')
    ws.close()
    const upgrade = {
      connection: 'Upgrade',
      upgrade: 'websocket',
      'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
      'sec-websocket-version': '13',
    }
    const refused = await fetch(`http://127.0.0.1:${guarded.port}/`, {
      headers: { ...upgrade, ...basic('user:wrong') },
    })
    expect(refused.status).toBe(401)
    await refused.text()
  })
})
