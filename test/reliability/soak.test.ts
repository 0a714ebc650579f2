import { afterAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Anvil, rpc, startAnvil } from '../helpers/anvil.ts'
import { type ProxyProcess, SOURCE_COMMAND, spawnProxy } from '../helpers/proxy.ts'
import { waitFor } from '../helpers/wait.ts'

/** Seconds of mixed traffic; SOAK_SECONDS=600 for a longer soak by hand. */
const SOAK_S = Number(process.env.SOAK_SECONDS ?? 60)
const WARM_UP_S = Math.min(20, SOAK_S / 3)
const WORKERS = 8
/** The memory cache is held small, so the soak's stream of new keys keeps evicting. */
const MAX_CACHE_BYTES = 8 * 1024 * 1024
/** A leak of even one small object per request would pass this within the run (hundreds of thousands of requests). */
const MAX_GROWTH_MIB = 48

const dir = mkdtempSync(join(tmpdir(), 'edb-soak-'))
let anvil: Anvil | undefined
let proxy: ProxyProcess | undefined
afterAll(async () => {
  proxy?.process.kill('SIGKILL')
  await anvil?.stop()
  rmSync(dir, { recursive: true, force: true })
})

type Outcome = 'result' | 'rpc-error' | 'failure'
type Tally = Record<string, Record<Outcome, number>>

/** One kind of request in the mix: how often, the body, and what a correct answer is. */
type Kind = { name: string; weight: number; body(n: number): string; expect: 'result' | 'rpc-error' }

const call = (method: string, params: unknown[], id: unknown = 1) =>
  JSON.stringify({ jsonrpc: '2.0', id, method, params })
const account = (n: number) => `0x${n.toString(16).padStart(40, '0')}`
const KINDS: Kind[] = [
  { name: 'new cacheable key', weight: 30, body: (n) => call('eth_getBalance', [account(n), '0x1']), expect: 'result' },
  {
    name: 'hot cached key',
    weight: 25,
    body: (n) => call('eth_getBlockByNumber', [`0x${((n % 16) + 1).toString(16)}`, n % 2 === 0]),
    expect: 'result',
  },
  { name: 'pass-through', weight: 10, body: () => call('eth_blockNumber', []), expect: 'result' },
  {
    name: 'latest state',
    weight: 5,
    body: (n) => call('eth_getBalance', [account(n % 50), 'latest']),
    expect: 'result',
  },
  {
    name: 'batch',
    weight: 10,
    body: (n) =>
      `[${Array.from({ length: 10 }, (_, i) => call('eth_getTransactionCount', [account((n * 10 + i) % 5_000), '0x2'], i)).join(',')}]`,
    expect: 'result',
  },
  {
    name: 'management',
    weight: 5,
    body: (n) => call(n % 2 === 0 ? 'edb_cache_stats' : 'edb_ping', []),
    expect: 'result',
  },
  { name: 'garbage', weight: 5, body: (n) => `{"jsonrpc":"2.0","id":${n},"method":`, expect: 'rpc-error' },
  { name: 'bad params', weight: 5, body: (n) => call('eth_getBalance', [n, { block: [] }]), expect: 'rpc-error' },
  { name: 'unknown method', weight: 5, body: (n) => call(`edb_nope_${n % 7}`, []), expect: 'rpc-error' },
]
const TOTAL_WEIGHT = KINDS.reduce((sum, kind) => sum + kind.weight, 0)

function pickKind(n: number): Kind {
  let slot = (n * 7_919) % TOTAL_WEIGHT
  for (const kind of KINDS) {
    if (slot < kind.weight) return kind
    slot -= kind.weight
  }
  return KINDS[0]!
}

function outcomeOf(json: any): Outcome {
  const replies = Array.isArray(json) ? json : [json]
  if (
    replies.length === 0 ||
    replies.some((reply) => reply === null || typeof reply !== 'object' || reply.jsonrpc !== '2.0')
  )
    return 'failure'
  if (replies.every((reply) => 'result' in reply && !('error' in reply))) return 'result'
  if (replies.every((reply) => typeof reply.error?.code === 'number' && typeof reply.error?.message === 'string'))
    return 'rpc-error'
  return 'failure'
}

async function rssMiB(pid: number): Promise<number> {
  const status = await Bun.file(`/proc/${pid}/status`).text()
  return Number(status.match(/VmRSS:\s+(\d+) kB/)?.[1]) / 1024
}

describe('soak', () => {
  test(
    `behavior: ${SOAK_S} s of mixed traffic (new keys, hot keys, pass-through, batches, garbage) from ${WORKERS} clients: every answer correct, memory flat after warm-up`,
    async () => {
      anvil = await startAnvil(['--chain-id', '424245'])
      await rpc(anvil.url, 'anvil_mine', ['0x80'])
      proxy = await spawnProxy(SOURCE_COMMAND, [
        'server',
        '--port',
        '0',
        '--rpc-urls',
        anvil.url,
        '--dev-chain',
        'no',
        '--cache-dir',
        dir,
        '--max-cache-bytes',
        String(MAX_CACHE_BYTES),
      ])
      const url = proxy.url!
      const pid = proxy.process.pid
      await waitFor(
        async () => String((await rpc(url, 'edb_cache_stats')).result.cache_file_path).endsWith('.sqlite'),
        'the cache to open',
      )

      const tally: Tally = Object.fromEntries(
        KINDS.map((kind) => [kind.name, { result: 0, 'rpc-error': 0, failure: 0 }]),
      )
      const wrong: string[] = []
      let next = 0
      const deadline = Date.now() + SOAK_S * 1000
      const worker = async () => {
        while (Date.now() < deadline) {
          const n = next++
          const kind = pickKind(n)
          const body = kind.body(n)
          const outcome = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
            .then((response) => response.json())
            .then(outcomeOf, () => 'failure' as const)
          tally[kind.name]![outcome]++
          if (outcome !== kind.expect && wrong.length < 5)
            wrong.push(`${kind.name}: ${outcome} for ${body.slice(0, 120)}`)
        }
      }
      const samples: { atS: number; rss: number }[] = []
      const startedAt = Date.now()
      const sampler = (async () => {
        while (Date.now() < deadline) {
          samples.push({ atS: (Date.now() - startedAt) / 1000, rss: await rssMiB(pid) })
          await Bun.sleep(1_000)
        }
      })()
      await Promise.all([...Array.from({ length: WORKERS }, worker), sampler])

      const stats = (await rpc(url, 'edb_cache_stats')).result
      const metrics = await (await fetch(`${url.replace(/\/$/, '')}/metrics`)).text()
      const memoryBytes = Number(metrics.match(/^edb_proxy_cache_memory_bytes (\d+)$/m)?.[1])
      const afterWarmUp = samples.filter((sample) => sample.atS >= WARM_UP_S)
      const baseline = afterWarmUp[0]!.rss
      const peak = Math.max(...afterWarmUp.map((sample) => sample.rss))
      console.log(
        `soak: ${next.toLocaleString('en-US')} requests in ${SOAK_S} s; RSS ${samples[0]!.rss.toFixed(0)} MiB at start, ` +
          `${baseline.toFixed(0)} MiB after ${WARM_UP_S} s warm-up, peak after ${peak.toFixed(0)} MiB, end ${samples.at(-1)!.rss.toFixed(0)} MiB; ` +
          `cache ${stats.total_entries} entries on disk, ${(memoryBytes / 2 ** 20).toFixed(1)} MiB of them in memory`,
      )
      expect(wrong).toEqual([])
      for (const kind of KINDS) {
        const counts = tally[kind.name]!
        expect({
          kind: kind.name,
          failures: counts.failure,
          unexpected: kind.expect === 'result' ? counts['rpc-error'] : counts.result,
        }).toEqual({
          kind: kind.name,
          failures: 0,
          unexpected: 0,
        })
        expect(counts[kind.expect]).toBeGreaterThan(0)
      }
      expect(next).toBeGreaterThan(SOAK_S * 100)
      expect(memoryBytes).toBeGreaterThan(MAX_CACHE_BYTES / 2)
      expect(memoryBytes).toBeLessThanOrEqual(MAX_CACHE_BYTES)
      expect(peak - baseline).toBeLessThanOrEqual(MAX_GROWTH_MIB)
      expect(proxy.process.exitCode).toBeNull()
      expect((await rpc(url, 'edb_ping')).result.status).toBe('ok')
    },
    (SOAK_S + 60) * 1000,
  )
})
