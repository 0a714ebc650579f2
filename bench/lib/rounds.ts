import { type BenchContext, LOAD_CORE } from './context.ts'
import { treeCpuMs } from './cpu.ts'
import type { MeasurementRow } from './report.ts'
import { ratioSpread, type Spread, spread } from './stats.ts'
import { runWrk, type WrkResult } from './wrk.ts'

/** A server under load, by the name it has in the report; with `pid`, its CPU per request is measured too. */
export type Target = { name: string; url: string; pid?: number }

/** Runs per target name, in round order, so run i of two targets was taken in the same round. */
export type Rounds = Map<string, WrkResult[]>

/**
 * Load each target in turn, round after round (A, B, C, A, B, C, ...), so slow drifts of the
 * machine fall on every target alike. One short unrecorded run per target first warms its JIT.
 */
export async function interleave(
  context: BenchContext,
  targets: Target[],
  bodiesFile: string,
  connections = 32,
  durationS = context.durationS,
): Promise<Rounds> {
  const { children, runs, log } = context
  for (const { url } of targets) await runWrk(children, { url, bodiesFile, durationS: 1, connections, core: LOAD_CORE })
  const rounds: Rounds = new Map(targets.map(({ name }) => [name, []]))
  for (let round = 1; round <= runs; round++) {
    for (const { name, url, pid } of targets) {
      const cpuBefore = pid === undefined ? 0 : treeCpuMs(pid)
      const result = await runWrk(children, { url, bodiesFile, durationS, connections, core: LOAD_CORE })
      if (pid !== undefined) result.cpuUsPerRequest = ((treeCpuMs(pid) - cpuBefore) * 1000) / result.requests
      rounds.get(name)!.push(result)
      log(`-c${connections} run ${round}/${runs}  ${name.padEnd(8)} ${describe(result)}`)
    }
  }
  return rounds
}

/** One report row per target. */
export function measurementRows(rounds: Rounds, workload: string): MeasurementRow[] {
  return [...rounds].map(([server, list]) => ({
    server,
    workload,
    rps: spread(list.map((run) => run.requestsPerSec)),
    p50Ms: spread(list.map((run) => run.p50Ms)),
    p99Ms: spread(list.map((run) => run.p99Ms)),
    errors: list.reduce((sum, run) => sum + run.errors, 0),
  }))
}

/** Ratio of one target's figure to another's, run by run within a round. */
export function ratio(
  rounds: Rounds,
  of: string,
  to: string,
  figure: 'requestsPerSec' | 'p99Ms' | 'cpuUsPerRequest' = 'requestsPerSec',
): Spread {
  const pick = (name: string) => rounds.get(name)!.map((run) => run[figure] ?? Number.NaN)
  return ratioSpread(pick(of), pick(to))
}

/** A target's CPU time per request over its runs, in microseconds (targets started with a pid). */
export function cpuPerRequest(rounds: Rounds, name: string): Spread {
  return spread(rounds.get(name)!.map((run) => run.cpuUsPerRequest ?? Number.NaN))
}

/** Targets whose runs saw non-2xx answers or socket errors. */
export function failingTargets(rounds: Rounds): string[] {
  return [...rounds].filter(([, list]) => list.some((run) => run.errors > 0)).map(([name]) => name)
}

function describe({ requestsPerSec, p50Ms, p99Ms, errors, cpuUsPerRequest }: WrkResult): string {
  const rate = Math.round(requestsPerSec).toLocaleString('en-US').padStart(8)
  const cpu = cpuUsPerRequest === undefined ? '' : `  ${cpuUsPerRequest.toFixed(0)} µs CPU/req`
  return `${rate} req/s  p50 ${p50Ms.toFixed(3)} ms  p99 ${p99Ms.toFixed(3)} ms${cpu}${errors ? `  ${errors} errors` : ''}`
}
