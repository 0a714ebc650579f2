import { Database } from 'bun:sqlite'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { planCall } from '../../src/cache/policy.ts'
import { referenceKey } from '../../src/cache/reference-key.ts'
import { type Anvil, rpc, startAnvil } from '../helpers/anvil.ts'
import { type CountingForwarder, startCountingForwarder } from '../helpers/counting.ts'
import { type ProxyProcess, SOURCE_COMMAND, serverArgs, spawnProxy } from '../helpers/proxy.ts'
import { waitFor } from '../helpers/wait.ts'

const CHAIN_ID = 424_242
const DEV = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266'
let anvil: Anvil
let counter: CountingForwarder
const running: ProxyProcess[] = []
const dirs: string[] = []

beforeAll(async () => {
  anvil = await startAnvil(['--chain-id', String(CHAIN_ID)])
  counter = startCountingForwarder(anvil.url)
  await rpc(anvil.url, 'anvil_mine', ['0x80'])
}, 60_000)
afterAll(async () => {
  for (const proxy of running) proxy.process.kill('SIGKILL')
  await counter.stop()
  await anvil.stop()
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

function cacheDir() {
  const dir = mkdtempSync(join(tmpdir(), 'edb-persist-'))
  dirs.push(dir)
  return dir
}
const storePath = (dir: string) => join(dir, 'rpc', String(CHAIN_ID), 'cache.sqlite')

/** A proxy process on a real (non-dev) chain: anvil with its own chain id, `--dev-chain no`. */
async function start(dir: string, extra: string[] = []) {
  const proxy = await spawnProxy(
    SOURCE_COMMAND,
    serverArgs(counter.url, '--dev-chain', 'no', '--cache-dir', dir, ...extra),
  )
  running.push(proxy)
  await waitFor(
    async () =>
      (await rpc(proxy.url!, 'edb_cache_stats')).result.cache_file_path !==
      '(in memory: caching disabled (--max-cache-items 0))',
    'the cache to open',
  )
  return proxy
}

async function post(proxy: ProxyProcess, method: string, params: unknown[]) {
  const response = await fetch(proxy.url!, {
    method: 'POST',
    body: JSON.stringify({ jsonrpc: '2.0', id: 9, method, params }),
  })
  return { cache: response.headers.get('x-cache'), json: (await response.json()) as any }
}

/** Rows present in the store file, read by a separate connection (what survives the process). */
function rowsOnDisk(dir: string): string[] {
  if (!existsSync(storePath(dir))) return []
  const db = new Database(storePath(dir), { readonly: true })
  try {
    return (db.query('SELECT key FROM entries').all() as { key: string }[]).map((row) => row.key)
  } finally {
    db.close()
  }
}

const BLOCK_CALLS: [string, unknown[]][] = [
  ['eth_getBlockByNumber', ['0x1', false]],
  ['eth_getBalance', [DEV, '0x2']],
  ['eth_chainId', []],
]

async function fill(proxy: ProxyProcess, dir: string) {
  for (const [method, params] of BLOCK_CALLS) expect((await post(proxy, method, params)).cache).toBe('MISS')
  // Each call's entry (the balance's proof also stored block 2's header, SPEC §15: counted apart).
  const keys = BLOCK_CALLS.map(([method, params]) => planCall(method, params)?.key as string)
  await waitFor(() => keys.every((key) => rowsOnDisk(dir).includes(key)), 'the entries to be durable on disk')
}

async function expectHitsWithoutUpstream(proxy: ProxyProcess) {
  counter.reset()
  for (const [method, params] of BLOCK_CALLS) {
    const reply = await post(proxy, method, params)
    expect({ method, cache: reply.cache }).toEqual({ method, cache: 'HIT' })
    expect(reply.json).toEqual(await rpc(anvil.url, method, params, 9))
  }
  for (const [method, params] of BLOCK_CALLS) expect(counter.count(method, params)).toBe(0)
}

describe('persistence', () => {
  test('default', async () => {
    const dir = cacheDir()
    const first = await start(dir)
    await fill(first, dir)
    first.process.kill('SIGTERM')
    expect(await first.exited).toBe(0)
    await expectHitsWithoutUpstream(await start(dir))
  })

  test('behavior: SIGKILL after the durability window loses nothing; restart hits', async () => {
    const dir = cacheDir()
    const first = await start(dir)
    await fill(first, dir)
    first.process.kill('SIGKILL')
    await first.exited
    await expectHitsWithoutUpstream(await start(dir))
  })

  test('behavior: two proxies share one cache directory', async () => {
    const dir = cacheDir()
    const [one, two] = [await start(dir), await start(dir)]
    await fill(one, dir)
    await expectHitsWithoutUpstream(two)
  })

  for (const [name, content] of [
    ['garbage', 'definitely not sqlite '.repeat(500)],
    ['a truncated header', 'SQLite format 3\u0000'],
  ] as const) {
    test(`behavior: ${name} in the store is moved aside and reported; the proxy serves`, async () => {
      const dir = cacheDir()
      mkdirSync(join(dir, 'rpc', String(CHAIN_ID)), { recursive: true })
      writeFileSync(storePath(dir), content)
      const proxy = await start(dir)
      const output = proxy.output.join('')
      const aside = readdirSync(join(dir, 'rpc', String(CHAIN_ID))).find((file) =>
        file.startsWith('cache.sqlite.corrupt-'),
      )
      expect(aside).toBeDefined()
      expect(output).toContain('corrupt')
      expect(output).toContain(storePath(dir))
      expect(output).toContain(join(dir, 'rpc', String(CHAIN_ID), aside!))
      await fill(proxy, dir)
    })
  }

  test('behavior: a Rust reference cache in the same directory is imported; uncacheable entries are not served', async () => {
    const dir = cacheDir()
    const chainDir = join(dir, 'rpc', String(CHAIN_ID))
    mkdirSync(join(chainDir, 'rpc_cache'), { recursive: true })
    const entry = (result: unknown) => ({ data: { jsonrpc: '2.0', id: 1, result }, accessed_at: 1_700_000_000 })
    const balanceKey = referenceKey('eth_getBalance', [DEV, '0x1'])
    expect(balanceKey).toBe('eth_getBalance:180042cb1540c88')
    const cache = {
      [balanceKey]: entry('0xabc'),
      [referenceKey('eth_getBalance', [DEV, '0x3'])]: entry(null),
      [referenceKey('eth_getBalance', [DEV, 'latest'])]: entry('0xdef'),
    }
    const text = new TextEncoder().encode(JSON.stringify(cache, null, 2))
    const sliceBytes = Math.ceil(text.length / 3)
    for (let index = 0; index < 3; index++) {
      writeFileSync(
        join(chainDir, 'rpc_cache', `rpc.json.${index + 1}`),
        text.slice(index * sliceBytes, (index + 1) * sliceBytes),
      )
    }
    const proxy = await start(dir)
    await waitFor(() => proxy.output.join('').includes('imported 2 entries from the reference cache'), 'the import')
    counter.reset()
    const imported = await post(proxy, 'eth_getBalance', [DEV, '0x1'])
    expect(imported).toEqual({ cache: 'HIT', json: { jsonrpc: '2.0', id: 9, result: '0xabc' } })
    expect(counter.count('eth_getBalance', [DEV, '0x1'])).toBe(0)
    // "latest" is never served from the cache, whatever the reference stored
    expect((await post(proxy, 'eth_getBalance', [DEV, 'latest'])).json.result).toBe(
      (await rpc(anvil.url, 'eth_getBalance', [DEV, 'latest'])).result,
    )
    expect((await post(proxy, 'eth_getBalance', [DEV, '0x3'])).cache).toBe('MISS')
  })

  test('behavior: an imported entry is served to the very first call, sent before the cache has opened', async () => {
    const dir = cacheDir()
    const chainDir = join(dir, 'rpc', String(CHAIN_ID))
    mkdirSync(chainDir, { recursive: true })
    const key = referenceKey('eth_getBalance', [DEV, '0x2'])
    writeFileSync(
      join(chainDir, 'rpc.json'),
      JSON.stringify({ [key]: { data: { jsonrpc: '2.0', id: 1, result: '0x1234' }, accessed_at: 1_700_000_000 } }),
    )
    counter.reset()
    const proxy = await spawnProxy(SOURCE_COMMAND, serverArgs(counter.url, '--dev-chain', 'no', '--cache-dir', dir))
    running.push(proxy)
    expect(await post(proxy, 'eth_getBalance', [DEV, '0x2'])).toEqual({
      cache: 'HIT',
      json: { jsonrpc: '2.0', id: 9, result: '0x1234' },
    })
    expect(counter.count('eth_getBalance')).toBe(0)
  })

  test('behavior: cache-only mode serves an imported entry pinned by block number', async () => {
    const dir = cacheDir()
    const chainDir = join(dir, 'rpc', String(CHAIN_ID))
    mkdirSync(chainDir, { recursive: true })
    const key = referenceKey('eth_getBalance', [DEV, '0x3'])
    writeFileSync(
      join(chainDir, 'rpc.json'),
      JSON.stringify({ [key]: { data: { jsonrpc: '2.0', id: 1, result: '0x77' }, accessed_at: 1_700_000_000 } }),
    )
    const proxy = await spawnProxy(SOURCE_COMMAND, serverArgs('', '--chain-id', String(CHAIN_ID), '--cache-dir', dir))
    running.push(proxy)
    expect(await post(proxy, 'eth_getBalance', [DEV, '0x3'])).toEqual({
      cache: 'HIT',
      json: { jsonrpc: '2.0', id: 9, result: '0x77' },
    })
    expect((await post(proxy, 'eth_getBalance', [DEV, '0x4'])).json.error.code).toBe(-32002)
  })

  const stops: [string, (proxy: ProxyProcess) => unknown, string[]][] = [
    ['SIGINT', (proxy) => proxy.process.kill('SIGINT'), []],
    ['SIGTERM', (proxy) => proxy.process.kill('SIGTERM'), []],
    ['SIGHUP', (proxy) => proxy.process.kill('SIGHUP'), []],
    ['edb_shutdown', (proxy) => rpc(proxy.url!, 'edb_shutdown'), []],
    ['grace expiry', () => {}, ['--grace-period', '1']],
  ]
  for (const [name, stop, extra] of stops) {
    test(`behavior: an answer delivered just before ${name} is on disk after the exit 0`, async () => {
      const dir = cacheDir()
      const proxy = await spawnProxy(
        SOURCE_COMMAND,
        serverArgs(counter.url, '--dev-chain', 'no', '--cache-dir', dir, ...extra),
      )
      running.push(proxy)
      expect((await post(proxy, 'eth_getBlockByNumber', ['0x5', false])).cache).toBe('MISS')
      await stop(proxy)
      expect(await proxy.exited).toBe(0)
      expect(rowsOnDisk(dir)).toEqual(['eth_getBlockByNumber:["0x5",false]'])
    })
  }

  test('behavior: --max-cache-items 0 stores nothing, in memory or on disk', async () => {
    const dir = cacheDir()
    const proxy = await spawnProxy(SOURCE_COMMAND, [
      'server',
      '--port',
      '0',
      '--rpc-urls',
      counter.url,
      '--dev-chain',
      'no',
      '--cache-dir',
      dir,
      '--max-cache-items',
      '0',
    ])
    running.push(proxy)
    for (let round = 0; round < 2; round++)
      expect((await post(proxy, 'eth_getBlockByNumber', ['0x1', false])).cache).toBe('BYPASS')
    expect((await rpc(proxy.url!, 'edb_cache_stats')).result).toMatchObject({
      total_entries: 0,
      max_entries: 0,
      utilization: '0.0%',
    })
    expect(existsSync(join(dir, 'rpc'))).toBe(false)
  })

  test('behavior: 25 distinct entries with --max-cache-items 10 hold at most 10, and the newest still hits', async () => {
    const dir = cacheDir()
    const proxy = await start(dir, ['--max-cache-items', '10'])
    for (let block = 1; block <= 25; block++)
      await post(proxy, 'eth_getBlockByNumber', [`0x${block.toString(16)}`, false])
    await waitFor(
      async () => (await rpc(proxy.url!, 'edb_cache_stats')).result.total_entries === 10,
      'the bound to hold',
    )
    expect(rowsOnDisk(dir).length).toBeLessThanOrEqual(10)
    expect((await post(proxy, 'eth_getBlockByNumber', ['0x19', false])).cache).toBe('HIT')
    expect((await post(proxy, 'eth_getBlockByNumber', ['0x1', false])).cache).toBe('MISS')
  })
})
