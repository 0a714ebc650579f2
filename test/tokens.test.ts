import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { startProxy, type TestProxy } from './helpers/proxy.ts'

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
  const response = await fetch(`http://127.0.0.1:${proxy.port}/`, {
    method: 'POST',
    headers: token ? { authorization: `Bearer ${token}` } : {},
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params: [process.pid, 1] }),
  })
  return { status: response.status, json: (await response.json()) as any }
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
      json: { jsonrpc: '2.0', id: null, error: { code: -32010, message: 'Unauthorized: send Authorization: Bearer <auth token>' } },
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
})
