/**
 * The first run of SPEC §10 and §14: a busy block (40 transactions, 12 slots and 3 accounts each)
 * replayed by `cast run` of its last and of its middle transaction, and read by an EDB-like client
 * (the transaction, its block, then the parent state one call at a time). Each run four ways:
 * straight to anvil (the limit), through a forwarder adding 30 ms a request (direct), through a
 * fresh proxy in front of its own forwarder (cold), and through that proxy again (warm). Upstream
 * requests are counted at the forwarder, the proxy's head tracking left out; outputs are compared
 * as text with the limit's.
 */
import { mkdtempSync } from 'node:fs'
import { join } from 'node:path'
import { type BusyBlock, castRunTx, seedBusyBlock } from '../../test/helpers/busy-block.ts'
import { edbLikeReplay } from '../../test/helpers/edb-like-replay.ts'
import { type LatencyForwarder, startLatencyForwarder } from '../../test/helpers/latency-forwarder.ts'
import { type BenchContext, SERVER_CORE } from '../lib/context.ts'
import { isHeadTracking, LATENCY_MS, warmChecks } from '../lib/replay-runs.ts'
import type { Check, Section, Table } from '../lib/report.ts'
import { type Server, startAnvil, startProxy } from '../lib/servers.ts'
import { spread } from '../lib/stats.ts'

/** Limit and warm runs are cheap: a few pairs, each warm run right after its limit. */
const PAIRS = 3
/** SPEC §10: a cold first run makes at most this many upstream requests, in at most this share of the direct time. */
const MAX_COLD_REQUESTS = 20
const MAX_COLD_RATIO = 0.2
const WAYS = ['limit', 'direct', 'cold', 'warm'] as const
type Way = (typeof WAYS)[number]
const RUNS = {
  'cast run, last tx': (busy: BusyBlock, url: string) => castRunTx(busy.txs.at(-1) as string, url),
  'EDB-like reader, last tx': async (busy: BusyBlock, url: string) => (await edbLikeReplay(busy, 'last', url)).output,
  'cast run, middle tx': (busy: BusyBlock, url: string) =>
    castRunTx(busy.txs[Math.floor(busy.txs.length / 2)] as string, url),
} as const
type RunName = keyof typeof RUNS

type Measured = { ms: number; requests: number; calls: Record<string, number>; own: number; output: string }
type RunResult = { measured: Map<Way, Measured[]>; prefetch: string }

export async function measureFirstRun(context: BenchContext): Promise<Section> {
  const { children, log } = context
  log('first-run: seeding anvil (a contract, one block of 40 calls touching 480 slots, 72 blocks on top)')
  const anvil = await startAnvil(children, SERVER_CORE)
  const busy = await seedBusyBlock(anvil.url)
  const direct = startLatencyForwarder(anvil.url, LATENCY_MS)
  const results = new Map<RunName, RunResult>()
  try {
    for (const name of Object.keys(RUNS) as RunName[]) {
      log(`first-run: ${name} (limit, direct, cold, warm)`)
      results.set(name, await measureRun(context, busy, name, anvil.url, direct))
    }
  } finally {
    await direct.stop()
    await anvil.child.stop()
  }
  return report(busy, results)
}

/** One run four ways; the cold proxy is fresh (its own cache directory and forwarder) and then serves the warm runs. */
async function measureRun(
  context: BenchContext,
  busy: BusyBlock,
  name: RunName,
  anvilUrl: string,
  direct: LatencyForwarder,
): Promise<RunResult> {
  const runner = RUNS[name]
  const measured = new Map<Way, Measured[]>(WAYS.map((way) => [way, []]))
  const record = async (way: Way, url: string, counter?: LatencyForwarder) =>
    measured.get(way)?.push(await timed(() => runner(busy, url), url, counter))
  // The first run pays for page cache and the binary loading: not measured.
  await runner(busy, anvilUrl)
  await record('direct', direct.url, direct)
  const upstream = startLatencyForwarder(anvilUrl, LATENCY_MS)
  const proxy = await readyProxy(context, upstream)
  try {
    await record('cold', proxy.url, upstream)
    const prefetch = await prefetchStats(proxy.url)
    for (let pair = 0; pair < PAIRS; pair++) {
      await record('limit', anvilUrl)
      await record('warm', proxy.url, upstream)
    }
    return { measured, prefetch }
  } finally {
    await proxy.child.stop()
    await upstream.stop()
  }
}

/** A proxy from source in front of `upstream` with a fresh cache, its chain known and cache open, the forwarder's counts reset. */
async function readyProxy(context: BenchContext, upstream: LatencyForwarder): Promise<Server> {
  const cacheDir = mkdtempSync(join(context.workDir, 'first-run-cache-'))
  const proxy = await startProxy(context.children, upstream.url, cacheDir, SERVER_CORE)
  await fetch(proxy.url, {
    method: 'POST',
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
  })
  upstream.reset()
  return proxy
}

/** The `prefetch` field of `edb_cache_stats` (SPEC §14: prefetches, keys stored, keys later asked for), as text. */
async function prefetchStats(url: string): Promise<string> {
  const response = await fetch(url, {
    method: 'POST',
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'edb_cache_stats', params: [] }),
  })
  const { result } = (await response.json()) as { result?: { prefetch?: unknown } }
  return result?.prefetch === undefined ? 'not reported' : JSON.stringify(result.prefetch)
}

async function timed(run: () => Promise<string>, url: string, counter?: LatencyForwarder): Promise<Measured> {
  counter?.reset()
  const startedAt = performance.now()
  // A run that fails is reported as its output (a mismatch), not as the end of the benchmark.
  const output = await run().catch((error: Error) => `failed: ${error.message}`)
  const ms = performance.now() - startedAt
  const all = counter?.calls() ?? []
  const own = all.filter(isHeadTracking).length
  return {
    ms,
    requests: (counter?.requests() ?? 0) - own,
    calls: counter?.byMethod(isHeadTracking) ?? {},
    own,
    output: output.replaceAll(url, '<rpc>'),
  }
}

function report(busy: BusyBlock, results: Map<RunName, RunResult>): Section {
  const rows: string[][] = []
  const checks: Check[] = []
  const notes: string[] = []
  let mismatches = 0
  for (const [name, { measured, prefetch }] of results) {
    const of = (way: Way) => measured.get(way) ?? []
    const limit = of('limit')[0]?.output ?? ''
    for (const way of WAYS) {
      const entries = of(way)
      const differing = entries.filter((entry) => entry.output !== limit)
      mismatches += differing.length
      if (differing.length > 0)
        notes.push(
          `${name}, ${way}: output differs from the limit's in ${differing.length} of ${entries.length} runs: ${firstDifference(limit, differing[0]?.output ?? '')}`,
        )
      rows.push([
        name,
        way,
        formatMsSpread(entries.map((entry) => entry.ms)),
        way === 'limit' ? '-' : String(spread(entries.map((entry) => entry.requests)).median),
        way === 'limit' ? '-' : describeCalls(entries.at(-1)?.calls ?? {}),
        way === 'cold' || way === 'warm' ? String(spread(entries.map((entry) => entry.own)).median) : '-',
      ])
    }
    const [direct, cold] = [of('direct')[0] as Measured, of('cold')[0] as Measured]
    const warm = of('warm')
    checks.push(
      {
        label: `${name}: cold upstream requests (direct ${direct.requests})`,
        value: spread([cold.requests]),
        unit: 'count',
        target: { op: '<=', limit: MAX_COLD_REQUESTS },
      },
      {
        label: `${name}: cold time / direct`,
        value: spread([cold.ms / direct.ms]),
        unit: 'x',
        target: { op: '<=', limit: MAX_COLD_RATIO },
      },
      ...warmChecks(name, warm, of('limit')),
    )
    notes.push(`${name}: the prefetch after the cold run (edb_cache_stats.prefetch): ${prefetch}`)
  }
  checks.push({
    label: 'outputs differing from the limit (every run, every way)',
    value: spread([mismatches]),
    unit: 'count',
    target: { op: '=', limit: 0 },
  })
  const table: Table = {
    header: [
      'run',
      'way',
      'wall time median (min–max)',
      'upstream requests',
      'calls by method (last run)',
      "proxy's own (head tracking)",
    ],
    body: rows,
  }
  notes.unshift(
    `Block ${busy.block} of ${busy.txs.length} transactions, read at its parent ${busy.parent}. Direct and cold once each (a cold run is one per fresh proxy), then ${PAIRS} times the limit followed by a warm run. Upstream: anvil behind a forwarder adding ${LATENCY_MS} ms a request (a batch is one request); the limit: straight to anvil. Foundry's fork cache off. The EDB-like reader asks, serially, balance, nonce and code of every account and every slot that anvil's prestateTracer lists for the block up to its target.`,
  )
  return { title: 'The first run: a busy block replayed cold (SPEC §14)', rows: [], tables: [table], checks, notes }
}

function describeCalls(calls: Record<string, number>): string {
  const entries = Object.entries(calls).sort(([a], [b]) => a.localeCompare(b))
  return entries.length === 0
    ? 'none'
    : entries.map(([method, count]) => `${method.replace(/^eth_/, '')} ${count}`).join(', ')
}

function formatMsSpread(values: number[]): string {
  const { median, min, max } = spread(values)
  return values.length === 1
    ? `${median.toFixed(0)} ms`
    : `${median.toFixed(0)} ms (${min.toFixed(0)}–${max.toFixed(0)})`
}

/** The first line where two outputs part, each side cut to a readable length. */
function firstDifference(a: string, b: string): string {
  const left = a.split('\n')
  const right = b.split('\n')
  const at = left.findIndex((line, index) => line !== right[index])
  const index = at === -1 ? left.length : at
  const cut = (line: string | undefined) => JSON.stringify((line ?? '').slice(0, 240))
  return `line ${index + 1}: limit ${cut(left[index])} / this ${cut(right[index])}`
}
