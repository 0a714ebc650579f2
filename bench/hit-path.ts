/**
 * Cache-hit throughput benchmark (SPEC §10). Baselines A (Bun.serve, constant answer, body unread)
 * and A_body (the same, body read) and the proxy in front of a seeded anvil are loaded in turn by
 * `wrk -t1 -c32` (wrk on core 0, servers on core 1), three interleaved runs each, on two workloads:
 * one repeated body and a rotation of 20 cacheable bodies. Prints medians, spreads and the ratios
 * SPEC §10 sets targets for, and writes the same tables to bench/RESULTS-hit-path.md.
 * Usage: bun bench/hit-path.ts [--duration <1-8 seconds per run, default 8>]
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { checkAnswers } from './lib/answers.ts'
import { post, seedChain } from './lib/chain.ts'
import { createChildren, type Children } from './lib/children.ts'
import { describeMachine, describeVersions, inspectEnvironment } from './lib/environment.ts'
import { renderMarkdown, renderText, type MeasurementRow, type RatioRow, type Report } from './lib/report.ts'
import { startAnvil, startBaseline, startProxy, type Server } from './lib/servers.ts'
import { ratioSpread, spread } from './lib/stats.ts'
import { warmCache } from './lib/warm.ts'
import { hitWorkloads, SINGLE_BODY, type Workload } from './lib/workloads.ts'
import { runWrk, type WrkResult } from './lib/wrk.ts'

const LOAD_CORE = 0
const SERVER_CORE = 1
const RUNS = 3
const PRIME_S = 2
const WARM_TIMEOUT_MS = 10_000
/** The whole run stays under four minutes; past this, everything is stopped. */
const WATCHDOG_MS = 235_000
const RESULTS_FILE = join(import.meta.dir, 'RESULTS-hit-path.md')

type Servers = { A: Server; A_body: Server; proxy: Server }
type ServerName = keyof Servers
const SERVER_ORDER: ServerName[] = ['A', 'A_body', 'proxy']
/** Runs per (server, workload), keyed `server/workload`, in round order. */
type Results = Map<string, WrkResult[]>
type Context = { children: Children; workDir: string; durationS: number; warnings: string[] }

const environment = inspectEnvironment()
const machine = describeMachine()
if (!environment.wrk) {
  console.error('wrk is not installed; install it with:  apt-get update && apt-get install -y wrk')
  process.exit(1)
}
const durationS = parseDuration(process.argv.slice(2))
const children = createChildren({ pin: environment.pin })
const workDir = await mkdtemp(join(tmpdir(), 'edb-bench-hit-'))
let finishing = false

process.on('SIGINT', () => void finish(130, 'interrupted: stopping every process started'))
process.on('SIGTERM', () => void finish(143, 'terminated: stopping every process started'))
process.on('exit', () => children.killAll())
const watchdog = setTimeout(() => void finish(1, `the benchmark ran past ${WATCHDOG_MS / 1000} s; stopping`), WATCHDOG_MS)

try {
  const report = await benchmark({ children, workDir, durationS, warnings: [...environment.warnings] })
  console.log(`\n${renderText(report)}`)
  await Bun.write(RESULTS_FILE, renderMarkdown(report))
  console.log(`\nwritten to ${RESULTS_FILE}`)
  await finish(0)
} catch (error) {
  await finish(1, `benchmark failed: ${error instanceof Error ? error.message : String(error)}`)
}

/** Stop everything started, remove the scratch directory (the proxy's cache included) and exit. */
async function finish(code: number, message?: string): Promise<never> {
  if (finishing) return new Promise<never>(() => {})
  finishing = true
  clearTimeout(watchdog)
  if (message) console.error(`\n${message}`)
  await children.stopAll()
  await rm(workDir, { recursive: true, force: true })
  process.exit(code)
}

function parseDuration(args: string[]): number {
  const { values } = parseArgs({ args, options: { duration: { type: 'string', default: '8' } } })
  const seconds = Number(values.duration)
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > 8) {
    console.error('--duration must be a whole number of seconds from 1 to 8')
    process.exit(2)
  }
  return seconds
}

async function benchmark(context: Context): Promise<Report> {
  const { children, workDir, warnings } = context
  log('starting anvil and seeding 151 blocks')
  const anvil = await startAnvil(children, SERVER_CORE)
  const chain = await seedChain(anvil.url)
  const workloads = hitWorkloads(chain)
  log('starting A, A_body and the proxy')
  const servers = await startServers(children, anvil.url, workDir, warnings)
  const sizes = await prepareProxy(servers.proxy.url, anvil.url, workloads, warnings)
  const files = await writeBodies(workDir, workloads)
  await prime(context, servers, files.get(workloads[0]!.name)!)
  const results = await measure(context, servers, workloads, files)
  const constantBytes = (await post(servers.A.url, SINGLE_BODY)).text.length
  const meta: [string, string][] = [
    ['date', new Date().toISOString()],
    ...describeVersions(),
    ['machine', machine],
    ['load', `wrk -t1 -c32 -d${context.durationS}s --latency, ${RUNS} interleaved runs; ${pinning()}`],
    ['chain', `anvil head ${chain.head}, blocks named <= 0x40 (finalized = head - 64 = ${chain.head - 64})`],
    ['answers', `proxy ${Math.min(...sizes)} to ${Math.max(...sizes)} bytes; A and A_body a constant ${constantBytes} bytes`],
  ]
  const { rows, ratios } = summarize(results, workloads)
  const failing = rows.filter((row) => row.errors > 0).map((row) => `${row.server}/${row.workload}`)
  if (failing.length > 0) warnings.push(`wrk saw non-2xx answers or socket errors for ${failing.join(', ')}; those rows are suspect`)
  return { title: 'Cache-hit throughput (SPEC §10)', meta, rows, ratios, warnings }
}

async function startServers(children: Children, upstreamUrl: string, workDir: string, warnings: string[]): Promise<Servers> {
  const A = await startBaseline(children, 'A', 'const', SERVER_CORE)
  const A_body = await startBaseline(children, 'A_body', 'body', SERVER_CORE)
  const proxy = await startProxy(children, upstreamUrl, join(workDir, 'cache'), SERVER_CORE)
  warnings.push(...proxy.notes)
  return { A, A_body, proxy }
}

/** Check the proxy's answers against anvil's, then warm its cache; returns the answer sizes. */
async function prepareProxy(proxyUrl: string, anvilUrl: string, workloads: Workload[], warnings: string[]): Promise<number[]> {
  const bodies = workloads.flatMap((workload) => workload.bodies)
  const { sizes, mismatches } = await checkAnswers(proxyUrl, anvilUrl, bodies)
  if (mismatches.length > 0) warnings.push(`${mismatches.length} answers through the proxy differ from anvil's: ${mismatches.join(' ')}`)
  log(`warming the cache (waiting up to ${WARM_TIMEOUT_MS / 1000} s for x-cache: HIT)`)
  const warm = await warmCache(proxyUrl, bodies, WARM_TIMEOUT_MS)
  if (warm.hits < warm.total) {
    warnings.push(
      `x-cache: HIT was not observed for ${warm.total - warm.hits} of ${warm.total} bodies within ` +
        `${WARM_TIMEOUT_MS / 1000} s; the proxy rows may measure pass-through to anvil, not cache hits`,
    )
  }
  log(`cache hits observed for ${warm.hits} of ${warm.total} bodies`)
  return sizes
}

/** One file per workload, one body per line, for bench/rotate.lua. */
async function writeBodies(workDir: string, workloads: Workload[]): Promise<Map<string, string>> {
  const files = new Map<string, string>()
  for (const workload of workloads) {
    const file = join(workDir, `${workload.name}.bodies`)
    await Bun.write(file, `${workload.bodies.join('\n')}\n`)
    files.set(workload.name, file)
  }
  return files
}

/** A short unrecorded run per server, so the first recorded run is not the one that warms the JIT. */
async function prime({ children }: Context, servers: Servers, bodiesFile: string) {
  log(`priming each server for ${PRIME_S} s`)
  for (const name of SERVER_ORDER) {
    await runWrk(children, { url: servers[name].url, bodiesFile, durationS: PRIME_S, core: LOAD_CORE })
  }
}

/** Interleaved runs: A, A_body, proxy, A, A_body, proxy, ... for each workload. */
async function measure(context: Context, servers: Servers, workloads: Workload[], files: Map<string, string>): Promise<Results> {
  const results: Results = new Map()
  for (const workload of workloads) {
    for (let round = 1; round <= RUNS; round++) {
      for (const name of SERVER_ORDER) {
        const options = { url: servers[name].url, bodiesFile: files.get(workload.name)!, durationS: context.durationS, core: LOAD_CORE }
        const result = await runWrk(context.children, options)
        const key = `${name}/${workload.name}`
        results.set(key, [...(results.get(key) ?? []), result])
        log(`${workload.name.padEnd(6)} run ${round}/${RUNS}  ${name.padEnd(6)}  ${describe(result)}`)
      }
    }
  }
  return results
}

function summarize(results: Results, workloads: Workload[]): { rows: MeasurementRow[]; ratios: RatioRow[] } {
  const runs = (server: ServerName, workload: Workload) => results.get(`${server}/${workload.name}`)!
  const rows = workloads.flatMap((workload) =>
    SERVER_ORDER.map((server) => {
      const list = runs(server, workload)
      return {
        server,
        workload: workload.name,
        rps: spread(list.map((run) => run.requestsPerSec)),
        p50Ms: spread(list.map((run) => run.p50Ms)),
        p99Ms: spread(list.map((run) => run.p99Ms)),
        errors: list.reduce((sum, run) => sum + run.errors, 0),
      }
    }),
  )
  const ratios = workloads.flatMap((workload): RatioRow[] => {
    const [a, aBody, proxy] = SERVER_ORDER.map((server) => runs(server, workload))
    const rps = (list: WrkResult[]) => list.map((run) => run.requestsPerSec)
    const p99 = (list: WrkResult[]) => list.map((run) => run.p99Ms)
    return [
      { workload: workload.name, label: 'proxy/A_body req/s', value: ratioSpread(rps(proxy!), rps(aBody!)), target: { op: '>=', limit: 0.95 } },
      { workload: workload.name, label: 'proxy/A req/s', value: ratioSpread(rps(proxy!), rps(a!)) },
      { workload: workload.name, label: 'proxy/A_body p99', value: ratioSpread(p99(proxy!), p99(aBody!)), target: { op: '<=', limit: 1.5 } },
    ]
  })
  return { rows, ratios }
}

function describe({ requestsPerSec, p50Ms, p99Ms, errors }: WrkResult): string {
  const rate = Math.round(requestsPerSec).toLocaleString('en-US').padStart(8)
  return `${rate} req/s  p50 ${p50Ms.toFixed(3)} ms  p99 ${p99Ms.toFixed(3)} ms${errors ? `  ${errors} errors` : ''}`
}

function pinning(): string {
  return environment.pin ? `wrk pinned to core ${LOAD_CORE}, servers and anvil to core ${SERVER_CORE}` : 'not pinned'
}

function log(message: string) {
  console.log(`[hit-path] ${message}`)
}
