/**
 * Provider budgets (SPEC §6, issue 22): `cast run` of a historical transaction and a forge fork
 * test against a forwarder that allows 10 calls in any one-second window (HTTP 429 with
 * Retry-After beyond, as a hosted provider's free tier). Each run three ways, each with a fresh
 * forwarder of its own: straight to it (direct: Foundry turns its own throttling off for localhost
 * URLs), through a fresh proxy whose config file gives the provider `rps: 10`, and through a fresh
 * proxy given only `--rpc-urls` (the budget learned from the first 429s). The forwarder counts
 * everything the proxy sends, its own calls included. Outputs are compared as text with the same
 * run straight to anvil.
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { type RateLimitedForwarder, startRateLimited } from '../../test/helpers/rate-limited.ts'
import { buildForgeProject, castRun, forgeForkTest, seedWorkload, type Workload } from '../../test/helpers/workload.ts'
import { type BenchContext, SERVER_CORE } from '../lib/context.ts'
import type { Check, Section, Table } from '../lib/report.ts'
import { type ProxyUpstream, startAnvil, startProxy } from '../lib/servers.ts'
import { spread } from '../lib/stats.ts'

/** The forwarder's limit and the configured budget: calls in any one-second window. */
const RPS = 10
/** SPEC §6 without a budget: the first 429s teach it; after the first second, at most this many. */
const MAX_LATE_429S = 10
const RUNS = {
  'cast run': castRun,
  'forge fork test': forgeForkTest,
} as const
type RunName = keyof typeof RUNS
const WAYS = ['direct', `proxy, rps: ${RPS}`, 'proxy, no budget'] as const
type Way = (typeof WAYS)[number]

type Measured = {
  ms: number
  passed: number
  refused: number
  lateRefused: number
  methods: Map<string, number>
  output: string
}

export async function measureBudgets(context: BenchContext): Promise<Section> {
  const { children, workDir, log } = context
  log('budgets: seeding anvil (a contract, three calls in one block, 80 blocks on top) and compiling the forge test')
  const anvil = await startAnvil(children, SERVER_CORE)
  const results = new Map<RunName, { reference: string; measured: Map<Way, Measured> }>()
  try {
    const workload = await seedWorkload(anvil.url, mkdtempSync(join(workDir, 'budgets-')))
    await buildForgeProject(workload)
    for (const name of Object.keys(RUNS) as RunName[]) {
      const runner = RUNS[name]
      // Straight to anvil: the reference output (and the binaries loaded before anything is timed).
      const reference = await runner(workload, anvil.url)
      const measured = new Map<Way, Measured>()
      for (const way of WAYS) {
        log(`budgets: ${name}, ${way} (a ${RPS}-a-second forwarder)`)
        measured.set(way, await measureWay(context, workload, name, way, anvil.url))
      }
      results.set(name, { reference, measured })
    }
  } finally {
    await anvil.child.stop()
  }
  return report(results)
}

/** One run one way, with a forwarder of its own (and a fresh proxy, unless direct). */
async function measureWay(
  context: BenchContext,
  workload: Workload,
  name: RunName,
  way: Way,
  anvilUrl: string,
): Promise<Measured> {
  const forwarder = startRateLimited(anvilUrl, RPS)
  try {
    if (way === 'direct') return await timed(() => RUNS[name](workload, forwarder.url), forwarder)
    const dir = mkdtempSync(join(context.workDir, 'budgets-proxy-'))
    let upstream: ProxyUpstream = forwarder.url
    if (way !== 'proxy, no budget') {
      const config = join(dir, 'proxy.yaml')
      writeFileSync(config, `providers:\n  - url: ${forwarder.url}\n    rps: ${RPS}\n`)
      upstream = { config }
    }
    const proxy = await startProxy(context.children, upstream, join(dir, 'cache'), SERVER_CORE)
    context.warnings.push(...proxy.notes)
    try {
      // The proxy as a debugger finds it: chain known, cache open. Its calls so far stay counted.
      await fetch(proxy.url, {
        method: 'POST',
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
      })
      return await timed(() => RUNS[name](workload, proxy.url), forwarder)
    } finally {
      await proxy.child.stop()
    }
  } finally {
    await forwarder.stop()
  }
}

async function timed(run: () => Promise<string>, forwarder: RateLimitedForwarder): Promise<Measured> {
  const startedAt = performance.now()
  // A run that fails is reported as its output (a mismatch), not as the end of the benchmark.
  const output = await run().catch((error: Error) => `failed: ${error.message}`)
  const ms = performance.now() - startedAt
  const { calls, refused, refusedAtMs, methods } = forwarder.counts
  return {
    ms,
    passed: calls,
    refused,
    lateRefused: refusedAtMs.filter((at) => at > 1_000).length,
    methods: new Map(methods),
    output,
  }
}

function report(results: Map<RunName, { reference: string; measured: Map<Way, Measured> }>): Section {
  const rows: string[][] = []
  const checks: Check[] = []
  const notes: string[] = []
  let mismatches = 0
  for (const [name, { reference, measured }] of results) {
    const of = (way: Way) => measured.get(way) as Measured
    for (const way of WAYS) {
      const entry = of(way)
      const same = entry.output === reference
      if (!same) {
        if (way !== 'direct') mismatches++
        notes.push(`${name}, ${way}: output differs from anvil's: ${firstDifference(reference, entry.output)}`)
      }
      rows.push([
        name,
        way,
        `${entry.ms.toFixed(0)} ms`,
        String(entry.passed),
        String(entry.refused),
        String(entry.lateRefused),
        same ? 'yes' : 'no',
      ])
      notes.push(`${name}, ${way}: calls passed by method: ${describeCalls(entry.methods)}`)
    }
    checks.push(
      {
        label: `${name}: 429s through a proxy with rps: ${RPS} (direct ${of('direct').refused})`,
        value: spread([of(`proxy, rps: ${RPS}`).refused]),
        unit: 'count',
        target: { op: '=', limit: 0 },
      },
      {
        label: `${name}: 429s after the first second through a proxy with no budget (in all ${of('proxy, no budget').refused})`,
        value: spread([of('proxy, no budget').lateRefused]),
        unit: 'count',
        target: { op: '<=', limit: MAX_LATE_429S },
      },
    )
  }
  checks.push({
    label: "proxy runs whose output differs from anvil's",
    value: spread([mismatches]),
    unit: 'count',
    target: { op: '=', limit: 0 },
  })
  const table: Table = {
    header: ['run', 'way', 'wall time', 'calls passed', '429s', '429s after 1 s', "output same as anvil's"],
    body: rows,
  }
  notes.unshift(
    `Upstream: anvil behind a forwarder allowing ${RPS} calls in any one-second window (a batch counts each call; HTTP 429 with Retry-After: 1 beyond), a fresh one for every row; each run once. Direct: Foundry straight to it; proxy: a fresh proxy (its own cache directory, --dev-chain no) given the provider in a config file with rps: ${RPS}, or only --rpc-urls (the budget learned from its 429s). The forwarder's counts include the proxy's own calls from its start (chain detection, head tracking); 429s count refused calls, 429s after 1 s the refused requests after the forwarder's first call's first second. Foundry's fork cache off.`,
  )
  return {
    title: 'Budgets: cast run and a forge fork test against a 10-a-second provider (SPEC §6)',
    rows: [],
    tables: [table],
    checks,
    notes,
  }
}

function describeCalls(calls: Map<string, number>): string {
  const entries = [...calls].sort(([a], [b]) => String(a).localeCompare(String(b)))
  return entries.length === 0
    ? 'none'
    : entries.map(([method, count]) => `${String(method).replace(/^eth_/, '')} ${count}`).join(', ')
}

/** The first line where two outputs part, each side cut to a readable length. */
function firstDifference(a: string, b: string): string {
  const left = a.split('\n')
  const right = b.split('\n')
  const at = left.findIndex((line, index) => line !== right[index])
  const index = at === -1 ? left.length : at
  const cut = (line: string | undefined) => JSON.stringify((line ?? '').slice(0, 240))
  return `line ${index + 1}: anvil ${cut(left[index])} / this ${cut(right[index])}`
}
