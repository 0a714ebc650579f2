import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Anvil, rpc, startAnvil } from '../helpers/anvil.ts'
import { type ProxyProcess, serverArgs, spawnProxy } from '../helpers/proxy.ts'
import { waitFor } from '../helpers/wait.ts'
import { connectWs } from '../helpers/ws-client.ts'

/** SPEC §11: the same source starts under Deno (`deno run -A src/main.ts server ...`), from the npm `deno` package. */
const ROOT = join(import.meta.dir, '../..')
const DENO = [join(ROOT, 'node_modules/.bin/deno'), 'run', '-A', join(ROOT, 'src/main.ts')]
const CHAIN_ID = 424_246
const dir = mkdtempSync(join(tmpdir(), 'edb-deno-'))
let anvil: Anvil
const running: ProxyProcess[] = []

beforeAll(async () => {
  anvil = await startAnvil(['--chain-id', String(CHAIN_ID)])
  await rpc(anvil.url, 'anvil_mine', ['0x50'])
})
afterAll(async () => {
  for (const proxy of running) proxy.process.kill('SIGKILL')
  await anvil.stop()
  rmSync(dir, { recursive: true, force: true })
})

async function startUnderDeno(): Promise<ProxyProcess> {
  const proxy = await spawnProxy(DENO, serverArgs(anvil.url, '--dev-chain', 'no', '--cache-dir', dir), {
    env: { DENO_NO_UPDATE_CHECK: '1' },
  })
  running.push(proxy)
  return proxy
}

async function post(url: string, body: string): Promise<{ cache: string | null; json: any }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
  return { cache: response.headers.get('x-cache'), json: await response.json() }
}

async function untilCacheOpens(url: string): Promise<void> {
  for (let tries = 0; tries < 200; tries++) {
    if (String((await rpc(url, 'edb_cache_stats')).result.cache_file_path).endsWith('.sqlite')) return
    await Bun.sleep(50)
  }
  throw new Error('the cache did not open under Deno')
}

describe('under Deno', () => {
  test('behavior: it serves the management methods, forwards, caches in SQLite across a restart, rejects garbage and stops on SIGTERM', async () => {
    const first = await startUnderDeno()
    const url = first.url!
    expect((await rpc(url, 'edb_ping')).result.status).toBe('ok')
    await untilCacheOpens(url)
    expect((await rpc(url, 'eth_chainId')).result).toBe(`0x${CHAIN_ID.toString(16)}`)

    const block = '{"jsonrpc":"2.0","id":3,"method":"eth_getBlockByNumber","params":["0x2",false]}'
    const direct = await post(anvil.url, block)
    const miss = await post(url, block)
    expect(miss.json).toEqual(direct.json)
    let hit = await post(url, block)
    for (let tries = 0; hit.cache !== 'HIT' && tries < 40; tries++) hit = await post(url, block)
    expect(hit.cache).toBe('HIT')
    expect(hit.json).toEqual(direct.json)

    const garbage = await post(url, '{"jsonrpc":"2.0","id":1,"method":')
    expect(garbage.json.error.code).toBe(-32700)
    expect((await rpc(url, 'edb_register', [process.pid])).result.status).toBe('registered')

    // WebSocket through Deno's own upgrade: a call, then every new head once.
    const ws = await connectWs(url)
    expect((await ws.call('eth_chainId')).result).toBe(`0x${CHAIN_ID.toString(16)}`)
    const { result: id } = await ws.call('eth_subscribe', ['newHeads'])
    // The head current when it subscribed is not news: the blocks mined after it are.
    const from = Number((await rpc(anvil.url, 'eth_blockNumber')).result)
    await rpc(anvil.url, 'anvil_mine', ['0x3'])
    await waitFor(() => (ws.notifications.get(id)?.length ?? 0) >= 3, 'three new heads')
    expect(ws.notifications.get(id)!.map((head) => Number(head.number))).toEqual([from + 1, from + 2, from + 3])
    ws.close()

    // SIGTERM writes what the write-behind still holds, then exits 0.
    first.process.kill('SIGTERM')
    expect(await first.exited).toBe(0)

    const second = await startUnderDeno()
    await untilCacheOpens(second.url!)
    const afterRestart = await post(second.url!, block)
    expect(afterRestart.cache).toBe('HIT')
    expect(afterRestart.json).toEqual(direct.json)
    second.process.kill('SIGTERM')
    expect(await second.exited).toBe(0)
  }, 60_000)
})
