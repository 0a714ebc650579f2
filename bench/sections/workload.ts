/**
 * The debugger workload of SPEC §10: `cast run` of a historical transaction, a forge fork test and
 * an `anvil --fork-url` session at a final block of a seeded anvil, behind a forwarder that adds
 * 30 ms a request (a remote provider; it has no anvil_ methods, as hosted providers do not). Each
 * run is made five ways: straight to anvil (the limit), straight to the forwarder (direct), and
 * through a fresh proxy cold, warm, and warm from disk after a restart (`--dev-chain no`: anvil
 * stands in for a real chain). Foundry's own fork cache is off. Every way must print the same
 * output as the limit (compared as text, durations taken out).
 */
import { mkdtempSync } from 'node:fs'
import { join } from 'node:path'
import { ServerOptionsSchema } from '../../src/config/schema.ts'
import { type LatencyForwarder, startLatencyForwarder } from '../../test/helpers/latency-forwarder.ts'
import { buildForgeProject, seedWorkload, WORKLOAD_RUNS, type Workload } from '../../test/helpers/workload.ts'
import { type BenchContext, SERVER_CORE } from '../lib/context.ts'
import { isHeadTracking, LATENCY_MS, totalCalls, warmChecks } from '../lib/replay-runs.ts'
import type { Check, Section, Table } from '../lib/report.ts'
import { type Server, startAnvil, startProxy } from '../lib/servers.ts'
import { spread } from '../lib/stats.ts'

const WORKLOAD_ROUNDS = 5
const PAIRS_PER_ROUND = 3
const BATCH_CALLS = 300
/** What the proxy batches by default (`--upstream-batch-size`): the bench starts it without the flag. */
const DEFAULT_BATCH_SIZE = ServerOptionsSchema.properties.upstreamBatchSize.default as number
const WAYS = ['limit', 'direct', 'cold', 'warm', 'restart'] as const
type Way = (typeof WAYS)[number]
type RunName = keyof typeof WORKLOAD_RUNS

type Measured = { ms: number; calls: Record<string, number>; own: number; output: string }

export async function measureWorkload(context: BenchContext): Promise<Section> {
  const { children, workDir, log } = context
  // Runs of 0.1–1 s swing with the machine more than wrk's seconds-long runs: more rounds.
  const runs = Math.max(context.runs, WORKLOAD_ROUNDS)
  log(
    'workload: seeding anvil (a contract, three calls in one block, 80 blocks on top) and compiling the forge test with solcjs',
  )
  const anvil = await startAnvil(children, SERVER_CORE)
  const workload = await seedWorkload(anvil.url, mkdtempSync(join(workDir, 'workload-')))
  await buildForgeProject(workload)
  // The tools' own clients and the proxy each get a forwarder, so neither's calls are counted as the other's.
  const direct = startLatencyForwarder(anvil.url, LATENCY_MS)
  const upstream = startLatencyForwarder(anvil.url, LATENCY_MS)
  const results = new Map<string, Measured[]>()
  let batchRequests = Number.NaN
  const record = (run: RunName, way: Way, measured: Measured) => {
    const key = `${run}\u0000${way}`
    results.set(key, [...(results.get(key) ?? []), measured])
  }
  try {
    // First runs pay for page cache and binaries loading: not measured.
    for (const runner of Object.values(WORKLOAD_RUNS)) await runner(workload, anvil.url)
    for (let round = 0; round < runs; round++) {
      for (const [name, runner] of Object.entries(WORKLOAD_RUNS) as [RunName, (typeof WORKLOAD_RUNS)[RunName]][]) {
        log(`workload: ${name}, round ${round + 1} of ${runs}`)
        record(name, 'direct', await timed(workload, runner, direct.url, direct))
        // A fresh cache for every run and round: cold means nothing of this workload is cached.
        const cacheDir = mkdtempSync(join(workDir, 'workload-cache-'))
        let proxy = await readyProxy(context, upstream, cacheDir)
        record(name, 'cold', await timed(workload, runner, proxy.url, upstream))
        // The limit right before each warm run: the pair the target compares shares the machine's moment;
        // a few pairs a round, since runs of 0.1 s swing with whatever else the machine does.
        for (let pair = 0; pair < PAIRS_PER_ROUND; pair++) {
          record(name, 'limit', await timed(workload, runner, anvil.url))
          record(name, 'warm', await timed(workload, runner, proxy.url, upstream))
        }
        await proxy.child.stop()
        proxy = await readyProxy(context, upstream, cacheDir)
        record(name, 'restart', await timed(workload, runner, proxy.url, upstream))
        await proxy.child.stop()
      }
    }
    log(`workload: a cold client batch of ${BATCH_CALLS} distinct reads`)
    batchRequests = await coldBatch(context, upstream, workload)
  } finally {
    await Promise.all([direct.stop(), upstream.stop()])
    await anvil.child.stop()
  }
  const section = report(results, runs)
  section.checks.push({
    label: `a cold client batch of ${BATCH_CALLS} distinct reads: upstream requests (--upstream-batch-size ${DEFAULT_BATCH_SIZE})`,
    value: spread([batchRequests]),
    unit: 'count',
    target: { op: '<=', limit: Math.ceil(BATCH_CALLS / DEFAULT_BATCH_SIZE) },
  })
  return section
}

/** SPEC §6 upstream batching, measured: the upstream requests a fresh proxy makes for one cold batch of distinct reads. */
async function coldBatch(context: BenchContext, upstream: LatencyForwarder, workload: Workload): Promise<number> {
  // Batching of misses, measured alone: with verified state (SPEC §15, the first-run section) each
  // read's proof rides in the same upstream batches, 300 more calls and twice the requests.
  const proxy = await readyProxy(context, upstream, mkdtempSync(join(context.workDir, 'workload-batch-')), [
    '--verify-state',
    'off',
  ])
  const batch = Array.from({ length: BATCH_CALLS }, (_, index) => ({
    jsonrpc: '2.0',
    id: index,
    method: 'eth_getBalance',
    params: [`0x${(index + 1).toString(16).padStart(40, '0')}`, `0x${workload.block.toString(16)}`],
  }))
  upstream.reset()
  const answers = (await (await fetch(proxy.url, { method: 'POST', body: JSON.stringify(batch) })).json()) as {
    result?: unknown
  }[]
  await proxy.child.stop()
  if (answers.length !== BATCH_CALLS || answers.some((answer) => answer.result === undefined))
    throw new Error('the cold batch was not answered call by call')
  return upstream.requestsWith('eth_getBalance')
}

/** A proxy from source in front of the forwarder, its chain known and cache open, with the forwarder's counts reset. */
async function readyProxy(
  context: BenchContext,
  upstream: LatencyForwarder,
  cacheDir: string,
  extra: string[] = [],
): Promise<Server> {
  const proxy = await startProxy(context.children, upstream.url, cacheDir, SERVER_CORE, extra)
  // A static cacheable call waits for the cache to open: the proxy is then as a debugger finds it.
  await fetch(proxy.url, {
    method: 'POST',
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
  })
  return proxy
}

async function timed(
  workload: Workload,
  runner: (workload: Workload, url: string) => Promise<string>,
  url: string,
  counter?: LatencyForwarder,
) {
  counter?.reset()
  const startedAt = performance.now()
  const output = await runner(workload, url)
  const ms = performance.now() - startedAt
  const calls = counter?.byMethod(isHeadTracking) ?? {}
  const own = (counter?.calls().length ?? 0) - Object.values(calls).reduce((sum, count) => sum + count, 0)
  return { ms, calls, own, output: output.replaceAll(url, '<rpc>') }
}

function report(results: Map<string, Measured[]>, runs: number): Section {
  const of = (run: RunName, way: Way) => results.get(`${run}\u0000${way}`) ?? []
  const callsOf = (run: RunName, way: Way) => spread(of(run, way).map(totalCalls)).median
  const rows: string[][] = []
  const checks: Check[] = []
  const notes: string[] = []
  let mismatches = 0
  for (const run of Object.keys(WORKLOAD_RUNS) as RunName[]) {
    const limit = of(run, 'limit')
    for (const way of WAYS) {
      const measured = of(run, way)
      const differing = measured.filter((entry) => entry.output !== limit[0]?.output)
      mismatches += differing.length
      if (differing.length > 0)
        notes.push(
          `${run}, ${way}: output differs from the limit's in ${differing.length} of ${measured.length} runs:\n${firstDifference(limit[0]?.output ?? '', differing[0]?.output ?? '')}`,
        )
      const last = measured.at(-1)
      rows.push([
        run,
        way,
        formatMsSpread(spread(measured.map((entry) => entry.ms))),
        way === 'limit' ? '-' : String(spread(measured.map(totalCalls)).median),
        way === 'limit' ? '-' : describeCalls(last?.calls ?? {}),
        way === 'cold' || way === 'warm' || way === 'restart'
          ? String(spread(measured.map((entry) => entry.own)).median)
          : '-',
      ])
    }
    const warm = of(run, 'warm')
    checks.push(
      ...warmChecks(run, warm, limit, 1.2),
      {
        label: `${run}: cold time / direct`,
        value: ratios(of(run, 'cold'), of(run, 'direct')),
        unit: 'x',
        target: { op: '<=', limit: 1.1 },
      },
      {
        label: `${run}: restart (warm from disk) time / the limit's median`,
        value: spread(of(run, 'restart').map((entry) => entry.ms / spread(limit.map((one) => one.ms)).median)),
        unit: 'x',
      },
      {
        label: `${run}: cold upstream calls (direct ${callsOf(run, 'direct')}, warm ${callsOf(run, 'warm')}, after restart ${callsOf(run, 'restart')})`,
        value: spread(of(run, 'cold').map(totalCalls)),
        unit: 'count',
      },
    )
  }
  checks.push({
    label: 'outputs differing from the limit (every way, every round)',
    value: spread([mismatches]),
    unit: 'count',
    target: { op: '=', limit: 0 },
  })
  const table: Table = {
    header: [
      'run',
      'way',
      'wall time median (min–max)',
      'upstream calls',
      'by method (last round)',
      "proxy's own (head tracking)",
    ],
    body: rows,
  }
  notes.unshift(
    `${runs} rounds; each run through a fresh proxy (its own cache directory) cold, then ${PAIRS_PER_ROUND} times the limit followed by a warm run (the target compares each pair), then warm from disk after a restart. Upstream: anvil behind a forwarder adding ${LATENCY_MS} ms a request; limit: the same run straight to anvil. Foundry's fork cache off (--no-storage-caching, FOUNDRY_NO_STORAGE_CACHING).`,
    `The cold batch of ${BATCH_CALLS} reads is measured with --verify-state off: with verified state (the default), each read's eth_getProof rides in the same upstream batches, ${BATCH_CALLS} more calls and twice the requests.`,
    'The forwarder has no anvil_ methods (a hosted provider has none): Foundry probes anvil_nodeInfo on every run; the proxy remembers that every provider lacks it, so a warm run does not ask again. That memory is not on disk: a run after a restart asks once.',
  )
  return {
    title: 'The debugger workload: cast run, forge fork test, anvil --fork-url',
    rows: [],
    tables: [table],
    checks,
    notes,
  }
}

function ratios(a: Measured[], b: Measured[]) {
  return spread(a.map((entry, index) => entry.ms / (b[index] as Measured).ms))
}

function describeCalls(calls: Record<string, number>): string {
  const entries = Object.entries(calls).sort(([a], [b]) => a.localeCompare(b))
  return entries.length === 0
    ? 'none'
    : entries.map(([method, count]) => `${method.replace(/^eth_/, '')} ${count}`).join(', ')
}

function formatMsSpread(value: { median: number; min: number; max: number }): string {
  return `${value.median.toFixed(0)} ms (${value.min.toFixed(0)}–${value.max.toFixed(0)})`
}

function firstDifference(a: string, b: string): string {
  const left = a.split('\n')
  const right = b.split('\n')
  const at = left.findIndex((line, index) => line !== right[index])
  const index = at === -1 ? left.length : at
  return `line ${index + 1}: limit ${JSON.stringify(left[index] ?? '')} / this ${JSON.stringify(right[index] ?? '')}`
}
