/**
 * The benchmark suite of SPEC §10 in one bounded run: cache hits against A, A_body and B (nginx
 * proxy_cache), pass-through against anvil, nginx forwarding and a naive Bun proxy, coalescing, large
 * bodies at the limit (time to answer, a ping's latency meanwhile), and
 * streams (1,000 WebSocket clients against a naive fan-out; feeds killed under load), and one
 * million entries (RSS, restart, binary spawn-to-ping). wrk runs on core 0, every server on
 * core 1; each wrk figure is the median of interleaved runs with its spread. Prints every ratio with
 * its target and writes the report to bench/RESULTS.md.
 * Usage: bun run bench [--duration <1-8 s per wrk run, default 3>] [--runs <3-9, default 3>]
 *                         [--entries <default 1000000>] [--only hits,pass-through,coalescing,bodies,streams,shared-cache,workload,first-run,budgets,million]
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { seedChain } from './lib/chain.ts'
import { createChildren } from './lib/children.ts'
import { type BenchContext, SERVER_CORE } from './lib/context.ts'
import { describeMachine, describeVersions, inspectEnvironment } from './lib/environment.ts'
import { nginxBinary, startNginx } from './lib/nginx.ts'
import { type Report, renderMarkdown, renderText, type Section } from './lib/report.ts'
import { startAnvil, startProxy } from './lib/servers.ts'
import { measureBodies } from './sections/bodies.ts'
import { measureBudgets } from './sections/budgets.ts'
import { measureCoalescing } from './sections/coalescing.ts'
import { measureFirstRun } from './sections/first-run.ts'
import { measureHits } from './sections/hit.ts'
import { measureMillion } from './sections/million.ts'
import { measurePassThrough } from './sections/pass-through.ts'
import { measureSharedCache } from './sections/shared-cache.ts'
import { measureStreams } from './sections/streams.ts'
import { measureWorkload } from './sections/workload.ts'

const SECTIONS = [
  'hits',
  'pass-through',
  'coalescing',
  'bodies',
  'streams',
  'shared-cache',
  'workload',
  'first-run',
  'budgets',
  'million',
] as const
type SectionName = (typeof SECTIONS)[number]
/** A bound on the whole run (about seven minutes when healthy); past this, everything is stopped. */
const WATCHDOG_MS = 540_000
const RESULTS_FILE = join(import.meta.dir, 'RESULTS.md')
const INSTALL = 'apt-get update && apt-get install -y wrk nginx-light'
const USAGE = `Usage: bun run bench [options]      (or: bun bench/run.ts [options])

Measures every SPEC §10 figure in one run (about 7 minutes) and writes bench/RESULTS.md.

Options:
  --duration <s>   seconds per wrk run, 1-8 (default 3)
  --runs <n>       interleaved runs per figure, 3-9 (default 3)
  --entries <n>    entries for the million-entry section (default 1000000)
  --only <list>    comma-separated sections: ${SECTIONS.join(', ')}
                   (a partial run prints its figures but leaves bench/RESULTS.md as it is)
  --help           this text
Needs wrk and nginx (Debian's packages: apt-get install -y wrk nginx-light).`

const options = parseOptions(process.argv.slice(2))
const environment = inspectEnvironment()
const nginx = nginxBinary()
const wanted = new Set<SectionName>(options.only)
const needsLoad = wanted.has('hits') || wanted.has('pass-through')
if (needsLoad && (!environment.wrk || !nginx)) {
  console.error(
    `${[!environment.wrk && 'wrk', !nginx && 'nginx'].filter(Boolean).join(' and ')} not installed; install with:  ${INSTALL}`,
  )
  process.exit(1)
}
const machine = describeMachine()
const startedAt = performance.now()
const children = createChildren({ pin: environment.pin })
const workDir = await mkdtemp(join(tmpdir(), 'edb-bench-'))
let finishing = false
process.on('SIGINT', () => void finish(130, 'interrupted: stopping every process started'))
process.on('SIGTERM', () => void finish(143, 'terminated: stopping every process started'))
process.on('exit', () => children.killAll())
const watchdog = setTimeout(
  () => void finish(1, `the benchmark ran past ${WATCHDOG_MS / 1000} s; stopping`),
  WATCHDOG_MS,
)

try {
  const context: BenchContext = {
    children,
    workDir,
    durationS: options.durationS,
    runs: options.runs,
    warnings: [...environment.warnings],
    log,
  }
  const sections = await runSections(context)
  const report: Report = {
    title: 'edb-rpc-proxy benchmarks (SPEC §10)',
    meta: meta(),
    sections,
    warnings: context.warnings,
  }
  console.log(`\n${renderText(report)}`)
  if (options.only.length === SECTIONS.length) {
    await Bun.write(RESULTS_FILE, renderMarkdown(report))
    console.log(`\nwritten to ${RESULTS_FILE}`)
  } else console.log(`\n(--only: ${RESULTS_FILE} left as it was)`)
  await finish(0)
} catch (error) {
  await finish(1, `benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`)
}

async function runSections(context: BenchContext): Promise<Section[]> {
  const sections: Section[] = []
  if (
    needsLoad ||
    wanted.has('coalescing') ||
    wanted.has('bodies') ||
    wanted.has('streams') ||
    wanted.has('shared-cache')
  ) {
    log('starting anvil and seeding 151 blocks')
    const anvil = await startAnvil(children, SERVER_CORE)
    const chain = await seedChain(anvil.url)
    if (needsLoad) {
      log('starting nginx (B) and the proxy')
      const b = await startNginx(children, nginx!, join(workDir, 'nginx'), anvil.url, SERVER_CORE)
      const proxy = await startProxy(children, anvil.url, join(workDir, 'cache'), SERVER_CORE)
      context.warnings.push(...proxy.notes)
      if (wanted.has('hits'))
        sections.push(
          await measureHits(context, {
            anvilUrl: anvil.url,
            chain,
            nginxCacheUrl: b.cacheUrl,
            nginxPid: b.child.pid,
            proxyUrl: proxy.url,
            proxyPid: proxy.child.pid,
          }),
        )
      if (wanted.has('pass-through'))
        sections.push(
          await measurePassThrough(context, {
            anvilUrl: anvil.url,
            anvilPid: anvil.child.pid,
            nginxForwardUrl: b.forwardUrl,
            nginxPid: b.child.pid,
            proxyUrl: proxy.url,
            proxyPid: proxy.child.pid,
          }),
        )
      await proxy.child.stop()
      await b.child.stop()
    }
    if (wanted.has('coalescing')) sections.push(await measureCoalescing(context, anvil.url))
    if (wanted.has('bodies')) sections.push(await measureBodies(context, anvil.url))
    if (wanted.has('streams')) sections.push(await measureStreams(context, anvil.url, environment.pin))
    if (wanted.has('shared-cache')) sections.push(await measureSharedCache(context, anvil.url))
    await anvil.child.stop()
  }
  if (wanted.has('workload')) sections.push(await measureWorkload(context))
  if (wanted.has('first-run')) sections.push(await measureFirstRun(context))
  if (wanted.has('budgets')) sections.push(await measureBudgets(context))
  if (wanted.has('million')) sections.push(await measureMillion(context, options.entries))
  return sections
}

function meta(): [string, string][] {
  const load = environment.pin
    ? 'wrk pinned to core 0; servers, anvil and nginx to core 1 (the first run: anvil on core 0, a remote provider)'
    : 'not pinned'
  return [
    ['date', new Date().toISOString()],
    ...describeVersions(),
    ['nginx', nginx ? nginxVersion(nginx) : 'not used'],
    ['machine', machine],
    ['load', `wrk -t1 -c32 -d${options.durationS}s --latency, ${options.runs} interleaved runs per figure; ${load}`],
    ['took', `${((performance.now() - startedAt) / 1000).toFixed(0)} s`],
  ]
}

function nginxVersion(binary: string): string {
  const { stderr } = Bun.spawnSync([binary, '-v'], { stdout: 'pipe', stderr: 'pipe' })
  return stderr.toString().match(/nginx\/(\S+)/)?.[1] ?? 'unknown'
}

/** Stop everything started, remove the scratch directory and exit. */
async function finish(code: number, message?: string): Promise<never> {
  if (finishing) return new Promise<never>(() => {})
  finishing = true
  clearTimeout(watchdog)
  if (message) console.error(`\n${message}`)
  await children.stopAll()
  await rm(workDir, { recursive: true, force: true })
  process.exit(code)
}

function parseOptions(args: string[]) {
  let values: { duration: string; runs: string; entries: string; only: string; help?: boolean }
  try {
    values = parseArgs({
      args,
      options: {
        duration: { type: 'string', default: '3' },
        runs: { type: 'string', default: '3' },
        entries: { type: 'string', default: '1000000' },
        only: { type: 'string', default: SECTIONS.join(',') },
        help: { type: 'boolean' },
      },
    }).values
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`)
    process.exit(2)
  }
  if (values.help) {
    console.log(USAGE)
    process.exit(0)
  }
  const fail = (message: string): never => {
    console.error(message)
    process.exit(2)
  }
  const durationS = Number(values.duration)
  const runs = Number(values.runs)
  const entries = Number(values.entries)
  if (!Number.isInteger(durationS) || durationS < 1 || durationS > 8)
    fail('--duration must be a whole number of seconds from 1 to 8')
  if (!Number.isInteger(runs) || runs < 3 || runs > 9) fail('--runs must be a whole number from 3 to 9')
  if (!Number.isInteger(entries) || entries < 1_000) fail('--entries must be a whole number of at least 1000')
  const only = values.only.split(',').map((name) => name.trim())
  const unknown = only.filter((name) => !(SECTIONS as readonly string[]).includes(name))
  if (unknown.length) fail(`--only: unknown section ${unknown.join(', ')}; choose from ${SECTIONS.join(', ')}`)
  return { durationS, runs, entries, only: only as SectionName[] }
}

function log(message: string) {
  const seconds = ((performance.now() - startedAt) / 1000).toFixed(0).padStart(3)
  console.log(`[${seconds} s] ${message}`)
}
