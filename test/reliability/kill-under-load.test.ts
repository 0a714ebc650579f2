import { Database } from 'bun:sqlite'
import { afterAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Anvil, rpc, startAnvil } from '../helpers/anvil.ts'
import { type ProxyProcess, SOURCE_COMMAND, serverArgs, spawnProxy } from '../helpers/proxy.ts'
import { waitFor } from '../helpers/wait.ts'

const CHAIN_ID = 424_243
const dir = mkdtempSync(join(tmpdir(), 'edb-kill-'))
const running: ProxyProcess[] = []
let anvil: Anvil | undefined
afterAll(async () => {
  for (const proxy of running) proxy.process.kill('SIGKILL')
  await anvil?.stop()
  rmSync(dir, { recursive: true, force: true })
})

const store = join(dir, 'rpc', String(CHAIN_ID), 'cache.sqlite')
function keysOnDisk(): Set<string> {
  const db = new Database(store, { readonly: true })
  try {
    return new Set((db.query('SELECT key FROM entries').all() as { key: string }[]).map((row) => row.key))
  } finally {
    db.close()
  }
}

async function start() {
  const proxy = await spawnProxy(SOURCE_COMMAND, serverArgs(anvil!.url, '--dev-chain', 'no', '--cache-dir', dir))
  running.push(proxy)
  await waitFor(
    async () => String((await rpc(proxy.url!, 'edb_cache_stats')).result.cache_file_path).endsWith('.sqlite'),
    'the cache to open',
  )
  return proxy
}

describe('SIGKILL under write load', () => {
  test('behavior: the store survives a kill mid-write; entries durable before it are all served after restart', async () => {
    anvil = await startAnvil(['--chain-id', String(CHAIN_ID)])
    await rpc(anvil.url, 'anvil_mine', ['0x80'])
    const first = await start()
    let next = 0
    let writing = true
    const writer = async () => {
      while (writing) {
        const account = `0x${(next++).toString(16).padStart(40, '0')}`
        await fetch(first.url!, {
          method: 'POST',
          body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_getBalance', params: [account, '0x1'] }),
        }).catch(() => {})
      }
    }
    const writers = Array.from({ length: 8 }, writer)
    await waitFor(() => next > 400, 'some load')
    await waitFor(() => keysOnDisk().size >= 200, 'entries to become durable', 30_000)
    const durable = keysOnDisk()
    await waitFor(() => next > 1_000, 'more load after the snapshot')
    first.process.kill('SIGKILL')
    await first.exited
    writing = false
    await Promise.all(writers)

    const second = await start()
    expect(second.output.join('')).not.toContain('corrupt')
    const after = keysOnDisk()
    for (const key of durable) expect(after.has(key)).toBe(true)
    // The balances (the headers stored for their proofs, SPEC §15, are entries too).
    const sample = [...durable].filter((key) => key.startsWith('eth_getBalance:')).slice(0, 20)
    for (const key of sample) {
      const params = JSON.parse(key.slice('eth_getBalance:'.length))
      const response = await fetch(second.url!, {
        method: 'POST',
        body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'eth_getBalance', params }),
      })
      expect(response.headers.get('x-cache')).toBe('HIT')
    }
  }, 120_000)
})
