import { afterEach, describe, expect, test } from 'bun:test'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import parsePrometheus from 'parse-prometheus-text-format'
import { loadServerOptions } from '../../src/config/load.ts'
import { startAnvil } from '../helpers/anvil.ts'
import { startProxy, type TestProxy } from '../helpers/proxy.ts'
import { startScriptedUpstream } from '../helpers/upstream.ts'

const dir = mkdtempSync(join(tmpdir(), 'edb-tokens-'))
const cleanup: (() => Promise<unknown> | unknown)[] = []
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()!()
})

function configFile(name: string, text: string): string {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}

async function proxyFrom(path: string, env: Record<string, string> = {}, upstreamUrl?: string): Promise<TestProxy> {
  const upstream = startScriptedUpstream((call) => (call.method === 'eth_chainId' ? '0x1' : '0x10'))
  cleanup.push(() => upstream.stop())
  const options = loadServerOptions({ flags: { config: path }, env })
  const proxy = await startProxy({ ...options, port: 0, rpcUrls: [upstreamUrl ?? upstream.url] })
  cleanup.unshift(() => proxy.stop())
  await proxy.cacheReady
  return proxy
}

describe('named client tokens (auth-tokens in the config file)', () => {
  test('default', () => {
    expect(loadServerOptions({ flags: {}, env: {} }).authTokens).toBeUndefined()
  })

  test('behavior: every call needs one of the tokens; ${ENV} works; each client is limited and counted by its name', async () => {
    const path = configFile(
      'team.yaml',
      'auth-tokens:\n  alice: "${ALICE_TOKEN}"\n  ci-runner: ci-token-0123\nrate-limit: 1\nrate-burst: 2\n',
    )
    const proxy = await proxyFrom(path, { ALICE_TOKEN: 'alice-token-0123' })
    const as = (token?: string) =>
      proxy.post(
        { jsonrpc: '2.0', id: 1, method: 'eth_gasPrice', params: [] },
        token === undefined ? {} : { authorization: `Bearer ${token}` },
      )
    expect((await as()).status).toBe(401)
    expect((await as('not-a-token-0000')).status).toBe(401)
    expect([
      (await as('alice-token-0123')).status,
      (await as('alice-token-0123')).status,
      (await as('alice-token-0123')).status,
    ]).toEqual([200, 200, 429])
    // ci-runner has a budget of its own.
    expect((await as('ci-token-0123')).status).toBe(200)
    const metrics = await (
      await fetch(`${proxy.url}/metrics`, { headers: { authorization: 'Bearer ci-token-0123' } })
    ).text()
    expect(metrics).toContain('edb_proxy_rate_limited_total{client="alice"} 1')
    expect(metrics).toContain('edb_proxy_client_calls_total{client="alice",outcome="refused"} 1')
    expect(metrics).not.toContain('alice-token-0123')
  })

  test('behavior: every call of a named client is counted by its name and outcome (cache, upstream), never by its token', async () => {
    const anvil = await startAnvil()
    cleanup.push(() => anvil.stop())
    const tokens = { alice: 'alice-token-0123', bob: 'bob-token-4567' }
    const path = configFile('clients.yaml', `auth-tokens:\n  alice: ${tokens.alice}\n  bob: ${tokens.bob}\n`)
    const proxy = await proxyFrom(path, {}, anvil.url)
    const as = async (token: string, method: string, id = 1, params: unknown[] = []) => {
      const reply = await proxy.post({ jsonrpc: '2.0', id, method, params }, { authorization: `Bearer ${token}` })
      expect(reply.json.result).toBeDefined()
      return reply.headers.get('x-cache')
    }
    // alice: one identical body four times: a miss, a hit, then remembered replies (the memo's fast path).
    expect([
      await as(tokens.alice, 'eth_chainId'),
      await as(tokens.alice, 'eth_chainId'),
      await as(tokens.alice, 'eth_chainId'),
      await as(tokens.alice, 'eth_chainId'),
    ]).toEqual(['MISS', 'HIT', 'HIT', 'HIT'])
    expect(await as(tokens.alice, 'eth_blockNumber')).toBe('BYPASS')
    // bob: hits of what alice stored (other ids, so no remembered reply), and a call about "now".
    expect([await as(tokens.bob, 'eth_chainId', 7), await as(tokens.bob, 'eth_chainId', 8)]).toEqual(['HIT', 'HIT'])
    expect(await as(tokens.bob, 'eth_getBalance', 9, ['0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266', 'latest'])).toBe(
      'BYPASS',
    )
    // Bob also sends his token as Basic auth's password (a fork URL's user-info): the same client.
    const basic = await proxy.post(
      { jsonrpc: '2.0', id: 10, method: 'eth_chainId', params: [] },
      { authorization: `Basic ${btoa(`bob:${tokens.bob}`)}` },
    )
    expect(basic.headers.get('x-cache')).toBe('HIT')

    const text = await (
      await fetch(`${proxy.url}/metrics`, { headers: { authorization: `Bearer ${tokens.alice}` } })
    ).text()
    const family = parsePrometheus(text).find((entry: any) => entry.name === 'edb_proxy_client_calls_total')
    const counts = Object.fromEntries(
      family.metrics.map((entry: any) => [`${entry.labels.client} ${entry.labels.outcome}`, Number(entry.value)]),
    )
    expect(counts).toEqual({
      'alice hit': 3,
      'alice upstream': 2,
      'alice refused': 0,
      'bob hit': 3,
      'bob upstream': 1,
      'bob refused': 0,
    })
    for (const token of Object.values(tokens)) expect(text).not.toContain(token)
  })

  test('behavior: a bad auth-tokens value is one clear error that never shows a token; it is no flag', () => {
    const path = configFile('bad.yaml', 'auth-tokens:\n  "bad name!": short\n')
    expect(() => loadServerOptions({ flags: { config: path }, env: {} })).toThrow(
      `invalid value for config file ${path}: key "auth-tokens": (the value is hidden: it is a secret) (expected a mapping of names`,
    )
    // An empty mapping would silently mean "no token required".
    const empty = configFile('empty.yaml', 'auth-tokens: {}\n')
    expect(() => loadServerOptions({ flags: { config: empty }, env: {} })).toThrow(
      '(the value is hidden: it is a secret)',
    )
    const list = configFile('list.yaml', 'auth-tokens: [one-token-0000]\n')
    expect(() => loadServerOptions({ flags: { config: list }, env: {} })).toThrow(
      '(the value is hidden: it is a secret)',
    )
    expect(() => loadServerOptions({ flags: { authTokens: 'x' } as never, env: {} })).not.toThrow()
    expect(
      loadServerOptions({ flags: { authTokens: 'x' } as never, env: { EDB_PROXY_AUTH_TOKENS: 'y' } }).authTokens,
    ).toBeUndefined()
  })

  test("behavior: docs/team.md's config file loads as written", async () => {
    const doc = await Bun.file(join(import.meta.dir, '../../docs/team.md')).text()
    const yaml = doc.match(/```yaml\n([\s\S]*?)```/)![1]!
    const env = Object.fromEntries(
      ['PROVIDER_KEY', 'OTHER_KEY', 'REDIS_PASSWORD', 'EDB_ADMIN_TOKEN', 'ALICE_TOKEN', 'BOB_TOKEN', 'CI_TOKEN'].map(
        (name) => [name, `${name.toLowerCase()}-value`],
      ),
    )
    const options = loadServerOptions({ flags: { config: configFile('team.yaml', yaml) }, env })
    expect(options).toMatchObject({
      host: '0.0.0.0',
      cacheUrl: 'redis://:redis_password-value@redis.internal:6379',
      authTokens: { alice: 'alice_token-value', bob: 'bob_token-value', ci: 'ci_token-value' },
      rateLimit: 50,
      rateBurst: 200,
      rateFreeHits: true,
      tlsCert: '/etc/edb/proxy.pem',
    })
  })
})
