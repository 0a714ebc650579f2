import { availableParallelism, loadavg } from 'node:os'
import { join } from 'node:path'

const ROOT = join(import.meta.dir, '../..')

/** What the machine offers: the load generator, and CPU pinning (taskset plus at least two cores). */
export type Environment = { wrk: boolean; pin: boolean; warnings: string[] }

/** Look for wrk and taskset; pinning is skipped, with a warning, where it cannot work. */
export function inspectEnvironment(): Environment {
  const warnings: string[] = []
  const taskset = Bun.which('taskset') !== null
  const cores = availableParallelism()
  if (!taskset) warnings.push('taskset not found (util-linux): wrk and the servers are not pinned to separate cores')
  else if (cores < 2) warnings.push(`only ${cores} core available: wrk and the servers share it`)
  return { wrk: Bun.which('wrk') !== null, pin: taskset && cores >= 2, warnings }
}

/** Cores and the one-minute load average, taken before the benchmark adds its own load. */
export function describeMachine(): string {
  return `${availableParallelism()} cores, load average ${loadavg()[0]!.toFixed(2)} before the run (other processes add noise)`
}

/** Versions and source revision, for the report header. */
export function describeVersions(): [string, string][] {
  return [
    ['bun', Bun.version],
    ['anvil', firstMatch([join(ROOT, 'node_modules/.bin/anvil'), '--version'], /anvil Version: (\S+)/)],
    ['wrk', firstMatch(['wrk', '-v'], /wrk (\S+)/)],
    ['proxy', sourceRevision()],
  ]
}

function firstMatch(command: string[], pattern: RegExp): string {
  const { stdout, stderr } = Bun.spawnSync(command, { stdout: 'pipe', stderr: 'pipe' })
  return `${stdout}${stderr}`.match(pattern)?.[1] ?? 'unknown'
}

function sourceRevision(): string {
  const run = (args: string[]) => Bun.spawnSync(['git', '-C', ROOT, ...args], { stdout: 'pipe', stderr: 'ignore' })
  const head = run(['rev-parse', '--short', 'HEAD'])
  if (head.exitCode !== 0) return 'unknown'
  const dirty = run(['status', '--porcelain', '--', 'src']).stdout.toString().trim() !== ''
  return `${head.stdout.toString().trim()}${dirty ? ' + uncommitted changes in src/' : ''}`
}
