/**
 * The first run of SPEC §10 and §14: a busy block (40 transactions, 12 slots and 3 accounts each)
 * replayed by `cast run` of its last and of its middle transaction, and read by an EDB-like client
 * (the transaction, its block, then the parent state one call at a time). Each run six ways:
 * straight to anvil (the limit), through a forwarder adding 30 ms a request (direct), through a
 * fresh proxy in front of its own forwarder (cold), and through that proxy again (warm); cold and
 * warm each with state verification on (SPEC §15, the proxy's default: `verified`) and off
 * (`--verify-state off`: `unverified`), every proxy fresh with its own cache directory and
 * forwarder. Upstream requests are counted at the forwarder, the proxy's head tracking left out;
 * outputs are compared as text with the limit's.
 *
 * anvil runs on the load core, not the proxy's: the upstream here stands for a remote provider (30
 * ms away), whose work is done on its own machines. On the proxy's core, anvil's own cost of the
 * proofs (about 0.6 ms of CPU each, one per account, however few slots) was charged to the proxy's
 * verification; docs/performance.md has the figures of both arrangements.
 */
import { mkdtempSync } from 'node:fs'
import { join } from 'node:path'
import { type BusyBlock, castRunTx, seedBusyBlock } from '../../test/helpers/busy-block.ts'
import { edbLikeReplay } from '../../test/helpers/edb-like-replay.ts'
import { type LatencyForwarder, startLatencyForwarder } from '../../test/helpers/latency-forwarder.ts'
import { type BenchContext, LOAD_CORE, SERVER_CORE } from '../lib/context.ts'
import { isHeadTracking, LATENCY_MS, warmChecks } from '../lib/replay-runs.ts'
import type { Check, Section, Table } from '../lib/report.ts'
import { type Server, startAnvil, startProxy } from '../lib/servers.ts'
import { ratioSpread, spread } from '../lib/stats.ts'

/** Limit and warm runs are cheap: a few triples, each limit followed by a warm run of either proxy. */
const PAIRS = 5
/** Cold runs, one per fresh proxy: this many rounds of a verified and an unverified proxy each. */
const COLD_ROUNDS = 3
/** SPEC §10: a cold first run makes at most this many upstream requests, in at most this share of the direct time. */
const MAX_COLD_REQUESTS = 20
const MAX_COLD_RATIO = 0.2
/** SPEC §10: with verification on, a cold run costs at most this much of the same run without it; a warm run the same (within noise). */
const MAX_VERIFIED_COLD_RATIO = 1.25
const MAX_VERIFIED_WARM_RATIO = 1.1
/** How each proxy is started: verification as the default has it (when-possible), or off. */
const KINDS = { verified: [], unverified: ['--verify-state', 'off'] } as const satisfies Record<string, string[]>
type Kind = keyof typeof KINDS
const WAYS = ['limit', 'direct', 'cold, verified', 'cold, unverified', 'warm, verified', 'warm, unverified'] as const
type Way = (typeof WAYS)[number]
const RUNS = {
  'cast run, last tx': (busy: BusyBlock, url: string) => castRunTx(busy.txs.at(-1) as string, url),
  'EDB-like reader, last tx': async (busy: BusyBlock, url: string) => (await edbLikeReplay(busy, 'last', url)).output,
  'cast run, middle tx': (busy: BusyBlock, url: string) =>
    castRunTx(busy.txs[Math.floor(busy.txs.length / 2)] as string, url),
} as const
type RunName = keyof typeof RUNS

type Measured = { ms: number; requests: number; calls: Record<string, number>; own: number; output: string }
/** What `edb_cache_stats` says of a proxy right after its cold run: its prefetch, and its verification (SPEC §15) when on. */
type ColdStats = { prefetch: string; verification?: Verification }
type Verification = { share_verified: string; verified: number; unverifiable: number; failed: number }
type RunResult = { measured: Map<Way, Measured[]>; stats: Record<Kind, ColdStats[]> }

export async function measureFirstRun(context: BenchContext): Promise<Section> {
  const { children, log } = context
  log('first-run: seeding anvil (a contract, one block of 40 calls touching 480 slots, 72 blocks on top)')
  // A remote provider's CPU is not the proxy's (see above).
  const anvil = await startAnvil(children, LOAD_CORE)
  const busy = await seedBusyBlock(anvil.url)
  const direct = startLatencyForwarder(anvil.url, LATENCY_MS)
  const results = new Map<RunName, RunResult>()
  try {
    for (const name of Object.keys(RUNS) as RunName[]) {
      log(`first-run: ${name} (direct, cold verified and unverified, limit and warm)`)
      results.set(name, await measureRun(context, busy, name, anvil.url, direct))
    }
  } finally {
    await direct.stop()
    await anvil.child.stop()
  }
  return report(busy, results)
}

type Fresh = { kind: Kind; proxy: Server; upstream: LatencyForwarder }

/**
 * One run six ways, interleaved so that noise hits verified and unverified alike: direct, then
 * rounds of a cold run through a fresh verified and a fresh unverified proxy (the order alternating),
 * then triples of the limit and a warm run through each of the last round's proxies.
 */
async function measureRun(
  context: BenchContext,
  busy: BusyBlock,
  name: RunName,
  anvilUrl: string,
  direct: LatencyForwarder,
): Promise<RunResult> {
  const runner = RUNS[name]
  const measured = new Map<Way, Measured[]>(WAYS.map((way) => [way, []]))
  const stats: Record<Kind, ColdStats[]> = { verified: [], unverified: [] }
  const record = async (way: Way, url: string, counter?: LatencyForwarder) =>
    measured.get(way)?.push(await timed(() => runner(busy, url), url, counter))
  // The first run pays for page cache and the binary loading: not measured.
  await runner(busy, anvilUrl)
  await record('direct', direct.url, direct)
  const running: Fresh[] = []
  const stop = async (fresh: Fresh) => {
    running.splice(running.indexOf(fresh), 1)
    await fresh.proxy.child.stop()
    await fresh.upstream.stop()
  }
  try {
    let kept: Fresh[] = []
    for (let round = 0; round < COLD_ROUNDS; round++) {
      for (const fresh of kept) await stop(fresh)
      kept = []
      const kinds: Kind[] = round % 2 === 0 ? ['verified', 'unverified'] : ['unverified', 'verified']
      for (const kind of kinds) {
        const upstream = startLatencyForwarder(anvilUrl, LATENCY_MS)
        const fresh: Fresh = { kind, upstream, proxy: await readyProxy(context, upstream, KINDS[kind]) }
        running.push(fresh)
        kept.push(fresh)
        await record(`cold, ${kind}`, fresh.proxy.url, upstream)
        stats[kind].push(await coldStats(fresh.proxy.url))
      }
    }
    for (let pair = 0; pair < PAIRS; pair++) {
      await record('limit', anvilUrl)
      const order = pair % 2 === 0 ? kept : [...kept].reverse()
      for (const { kind, proxy, upstream } of order) await record(`warm, ${kind}`, proxy.url, upstream)
    }
    return { measured, stats }
  } finally {
    for (const fresh of [...running]) await stop(fresh)
  }
}

/** A proxy from source in front of `upstream` with a fresh cache, its chain known and cache open, the forwarder's counts reset. */
async function readyProxy(
  context: BenchContext,
  upstream: LatencyForwarder,
  extra: readonly string[],
): Promise<Server> {
  const cacheDir = mkdtempSync(join(context.workDir, 'first-run-cache-'))
  const proxy = await startProxy(context.children, upstream.url, cacheDir, SERVER_CORE, [...extra])
  await fetch(proxy.url, {
    method: 'POST',
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
  })
  upstream.reset()
  return proxy
}

/**
 * The `prefetch` field of `edb_cache_stats` (SPEC §14: prefetches, keys stored, keys later asked
 * for), as text, and its `verification` field (SPEC §15: answers proven, not provable, failed).
 */
async function coldStats(url: string): Promise<ColdStats> {
  const response = await fetch(url, {
    method: 'POST',
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'edb_cache_stats', params: [] }),
  })
  const { result } = (await response.json()) as { result?: { prefetch?: unknown; verification?: Verification } }
  return {
    prefetch: result?.prefetch === undefined ? 'not reported' : JSON.stringify(result.prefetch),
    ...(result?.verification === undefined ? {} : { verification: result.verification }),
  }
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
  for (const [name, { measured, stats }] of results) {
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
        way === 'limit' ? '-' : formatCountSpread(entries.map((entry) => entry.requests)),
        way === 'limit' ? '-' : describeCalls(entries.at(-1)?.calls ?? {}),
        way.startsWith('cold') || way.startsWith('warm')
          ? String(spread(entries.map((entry) => entry.own)).median)
          : '-',
      ])
    }
    const direct = of('direct')[0] as Measured
    const [cold, coldOff] = [of('cold, verified'), of('cold, unverified')]
    const [warm, warmOff] = [of('warm, verified'), of('warm, unverified')]
    const ms = (entries: Measured[]) => entries.map((entry) => entry.ms)
    const verifications = stats.verified.map((entry) => entry.verification)
    const notFull = verifications.filter((verification) => verification?.share_verified !== '100.0%').length
    checks.push(
      {
        label: `${name}: cold (verified) upstream requests (direct ${direct.requests})`,
        value: spread(cold.map((entry) => entry.requests)),
        unit: 'count',
        target: { op: '<=', limit: MAX_COLD_REQUESTS },
      },
      {
        label: `${name}: cold (verified) time / direct`,
        value: spread(ms(cold).map((value) => value / direct.ms)),
        unit: 'x',
        target: { op: '<=', limit: MAX_COLD_RATIO },
      },
      {
        label: `${name}: cold time, verified / unverified (each round's pair)`,
        value: ratioSpread(ms(cold), ms(coldOff)),
        unit: 'x',
        target: { op: '<=', limit: MAX_VERIFIED_COLD_RATIO },
      },
      {
        label: `${name}: verified cold proxies whose share_verified is not 100.0% (of ${verifications.length})`,
        value: spread([notFull]),
        unit: 'count',
        target: { op: '=', limit: 0 },
      },
      ...warmChecks(`${name} (verified)`, warm, of('limit')),
      {
        label: `${name}: warm time, verified / unverified (each triple's pair)`,
        value: ratioSpread(ms(warm), ms(warmOff)),
        unit: 'x',
        target: { op: '<=', limit: MAX_VERIFIED_WARM_RATIO },
      },
    )
    notes.push(
      `${name}: the prefetch after each cold run (edb_cache_stats.prefetch): verified ${distinct(stats.verified.map((entry) => entry.prefetch))}; unverified ${distinct(stats.unverified.map((entry) => entry.prefetch))}`,
      `${name}: the verification after each verified cold run (edb_cache_stats.verification: share_verified, verified, unverifiable, failed): ${distinct(verifications.map(describeVerification))}; unverified proxies: ${distinct(stats.unverified.map((entry) => describeVerification(entry.verification)))}`,
    )
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
    `Block ${busy.block} of ${busy.txs.length} transactions, read at its parent ${busy.parent}. Direct once; then ${COLD_ROUNDS} rounds of a cold run through a fresh proxy with state verification on (verified: the default, --verify-state when-possible, SPEC §15) and one with it off (unverified: --verify-state off), the order alternating, each proxy with its own cache directory and forwarder; then ${PAIRS} times the limit followed by a warm run through each of the last round's two proxies. Upstream: anvil behind a forwarder adding ${LATENCY_MS} ms a request (a batch is one request); the limit: straight to anvil. Foundry's fork cache off. The EDB-like reader asks, serially, balance, nonce and code of every account and every slot that anvil's prestateTracer lists for the block up to its target.`,
  )
  return { title: 'The first run: a busy block replayed cold (SPEC §14)', rows: [], tables: [table], checks, notes }
}

function describeVerification(verification: Verification | undefined): string {
  if (verification === undefined) return 'not reported'
  const { share_verified, verified, unverifiable, failed } = verification
  return `${share_verified}, ${verified}, ${unverifiable}, ${failed}`
}

/** The texts, once each, with how many times when more than once (`a (x3)`). */
function distinct(texts: string[]): string {
  const counts = new Map<string, number>()
  for (const text of texts) counts.set(text, (counts.get(text) ?? 0) + 1)
  return [...counts]
    .map(([text, count]) => (count === 1 && texts.length === 1 ? text : `${text} (x${count})`))
    .join(' / ')
}

function formatCountSpread(values: number[]): string {
  const { median, min, max } = spread(values)
  return min === max ? String(median) : `${median} (${min}–${max})`
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
