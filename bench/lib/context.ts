import type { Children } from './children.ts'

/** Core 0 carries the load generator, core 1 every server (SPEC §10). */
export const LOAD_CORE = 0
export const SERVER_CORE = 1

/** What every section of the benchmark gets: the processes it may start, scratch space, run settings. */
export type BenchContext = {
  children: Children
  workDir: string
  /** Seconds per recorded wrk run. */
  durationS: number
  /** Interleaved rounds per measurement (SPEC §10: at least three). */
  runs: number
  /** Problems that make a figure suspect; printed under the report. */
  warnings: string[]
  log(message: string): void
}
