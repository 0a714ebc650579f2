/**
 * Pass-through and coalescing (SPEC §10). Pass-through: `eth_blockNumber` (never cached) through
 * the proxy against anvil directly (C), the proxy and anvil sharing one core, wrk on the other;
 * three interleaved runs; throughput ratio and the median latency the proxy adds at one connection.
 * Coalescing: 1,000 identical concurrent cold requests through the proxy, counted at a forwarder
 * in front of anvil: SPEC target exactly one upstream request.
 * Usage: bun bench/pass-through.ts [--duration <1-8 seconds per run, default 5>]
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { createChildren } from './lib/children.ts'
import { inspectEnvironment } from './lib/environment.ts'
import { startAnvil, startProxy } from './lib/servers.ts'
import { ratioSpread, spread } from './lib/stats.ts'
import { runWrk, type WrkResult } from './lib/wrk.ts'

const LOAD_CORE = 0
const SERVER_CORE = 1
const RUNS = 3
const BODY = '{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]}'
const COLD = (block: number) => `{"jsonrpc":"2.0","id":1,"method":"eth_getBlockByNumber","params":["0x${block.toString(16)}",true]}`

/** Wait until the proxy's cache is open (chain detected), so the burst meets a ready proxy. */
async function waitForCache(url: string): Promise<void> {
  for (let tries = 0; tries < 200; tries++) {
    const stats = (await (await fetch(url, { method: 'POST', body: '{"jsonrpc":"2.0","id":1,"method":"edb_cache_stats"}' })).json()) as any
    if (String(stats.result?.cache_file_path).endsWith('.sqlite')) return
    await Bun.sleep(50)
  }
  throw new Error('the proxy cache did not open')
}

const { values } = parseArgs({ args: process.argv.slice(2), options: { duration: { type: 'string', default: '5' } } })
const durationS = Number(values.duration)
if (!Number.isInteger(durationS) || durationS < 1 || durationS > 8) {
  console.error('--duration must be an integer from 1 to 8')
  process.exit(2)
}
const environment = inspectEnvironment()
if (!environment.wrk) {
  console.error('wrk is not installed; install it with:  apt-get update && apt-get install -y wrk')
  process.exit(1)
}
const children = createChildren({ pin: environment.pin })
const workDir = await mkdtemp(join(tmpdir(), 'edb-bench-pass-'))
process.on('exit', () => children.killAll())

try {
  const anvil = await startAnvil(children, SERVER_CORE)
  await fetch(anvil.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"jsonrpc":"2.0","id":1,"method":"anvil_mine","params":["0x96"]}' })
  const proxy = await startProxy(children, anvil.url, join(workDir, 'cache'), SERVER_CORE)
  const bodies = join(workDir, 'body')
  await writeFile(bodies, `${BODY}\n`)

  const runs: Record<'anvil' | 'proxy', WrkResult[]> = { anvil: [], proxy: [] }
  const single: Record<'anvil' | 'proxy', WrkResult[]> = { anvil: [], proxy: [] }
  for (const target of [anvil, proxy]) await runWrk(children, { url: target.url, bodiesFile: bodies, durationS: 1, core: LOAD_CORE })
  for (let round = 0; round < RUNS; round++) {
    for (const [name, target] of [['anvil', anvil], ['proxy', proxy]] as const) {
      runs[name].push(await runWrk(children, { url: target.url, bodiesFile: bodies, durationS, core: LOAD_CORE }))
      single[name].push(await runWrk(children, { url: target.url, bodiesFile: bodies, durationS: 2, connections: 1, core: LOAD_CORE }))
    }
  }

  const forwarder = children.start('forwarder', [process.execPath, join(import.meta.dir, 'counting-forwarder.ts'), anvil.url], { core: SERVER_CORE })
  const forwarderUrl = (await forwarder.stdout.waitFor(/listening on (http:\/\/\S+)/, 20_000))[1]!.replace(/\/$/, '')
  const coalescingProxy = await startProxy(children, forwarderUrl, join(workDir, 'cache-2'), SERVER_CORE)
  await waitForCache(coalescingProxy.url)
  const cold = COLD(5)
  const replies = await Promise.all(
    Array.from({ length: 1_000 }, () =>
      fetch(coalescingProxy.url, { method: 'POST', body: cold }).then((response) => response.json() as Promise<any>, () => undefined),
    ),
  )
  const upstream = Number(await (await fetch(`${forwarderUrl}/count?key=${encodeURIComponent('eth_getBlockByNumber["0x5",true]')}`)).text())
  const answered = replies.filter((reply) => reply?.result?.number === '0x5').length

  const rps = (list: WrkResult[]) => list.map((run) => run.requestsPerSec)
  const addedMs = single.proxy.map((run, index) => run.p50Ms - (single.anvil[index] as WrkResult).p50Ms)
  const fmt = (s: { median: number; min: number; max: number }, digits = 2) =>
    `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)})`
  const lines = [
    `${new Date().toISOString()}  bun ${Bun.version}  wrk -t1 -c32 -d${durationS}s x${RUNS} interleaved; proxy and anvil on core ${SERVER_CORE}`,
    '',
    `| measure | value | target |`,
    `| --- | --- | --- |`,
    `| anvil direct (C), eth_blockNumber req/s | ${fmt(spread(rps(runs.anvil)), 0)} | |`,
    `| proxy pass-through req/s | ${fmt(spread(rps(runs.proxy)), 0)} | |`,
    `| proxy / anvil throughput | ${fmt(ratioSpread(rps(runs.proxy), rps(runs.anvil)))}x | (SPEC compares with nginx forwarding, B: not measured here) |`,
    `| added median latency at 1 connection | ${fmt(spread(addedMs), 3)} ms | < 0.05 ms |`,
    `| 1,000 identical concurrent cold requests: upstream requests | ${upstream} (${answered} of 1,000 answered correctly) | exactly 1 |`,
  ]
  console.log(lines.join('\n'))
  await Bun.write(join(import.meta.dir, 'RESULTS-pass-through.md'), `# Pass-through and coalescing (SPEC §10)\n\n${lines.join('\n')}\n`)
} finally {
  await children.stopAll()
  await rm(workDir, { recursive: true, force: true })
}
