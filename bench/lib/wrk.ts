import { join } from 'node:path'
import type { Children } from './children.ts'

const ROTATE_SCRIPT = join(import.meta.dir, '../rotate.lua')

/** One wrk run, as parsed from its `--latency` report. */
export type WrkResult = {
  requestsPerSec: number
  requests: number
  p50Ms: number
  p99Ms: number
  errors: number
  cpuUsPerRequest?: number
}

/** Load settings of SPEC §10: one thread, 32 connections. */
export type WrkOptions = { url: string; bodiesFile: string; durationS: number; connections?: number; core: number }

/** Run wrk against `url`, rotating through the bodies in `bodiesFile`. */
export async function runWrk(
  children: Children,
  { url, bodiesFile, durationS, connections = 32, core }: WrkOptions,
): Promise<WrkResult> {
  const args = [
    '-t1',
    `-c${connections}`,
    `-d${durationS}s`,
    '--latency',
    '-s',
    ROTATE_SCRIPT,
    `${url}/`,
    '--',
    bodiesFile,
  ]
  const child = children.start('wrk', ['wrk', ...args], { core })
  const exitCode = await child.exited
  const output = child.stdout.text()
  if (exitCode !== 0) throw new Error(`wrk exited with ${exitCode}:\n${output}${child.stderr.text()}`)
  return parseWrk(output)
}

/** Requests/sec, the 50 % and 99 % latency lines, and non-2xx plus socket errors. */
export function parseWrk(output: string): WrkResult {
  const rate = output.match(/Requests\/sec:\s+([\d.]+)/)
  const total = output.match(/(\d+) requests in/)
  const p50 = output.match(/^\s+50%\s+([\d.]+)(us|ms|s|m)\s*$/m)
  const p99 = output.match(/^\s+99%\s+([\d.]+)(us|ms|s|m)\s*$/m)
  if (!rate || !total || !p50 || !p99) throw new Error(`unexpected wrk output:\n${output}`)
  return {
    requestsPerSec: Number(rate[1]),
    requests: Number(total[1]),
    p50Ms: toMs(Number(p50[1]), p50[2]!),
    p99Ms: toMs(Number(p99[1]), p99[2]!),
    errors: countErrors(output),
  }
}

function toMs(value: number, unit: string): number {
  return value * ({ us: 0.001, ms: 1, s: 1_000, m: 60_000 }[unit] ?? Number.NaN)
}

function countErrors(output: string): number {
  const non2xx = Number(output.match(/Non-2xx or 3xx responses:\s+(\d+)/)?.[1] ?? 0)
  const socket = output.match(/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/)
  const socketErrors = socket ? socket.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0
  return non2xx + socketErrors
}
