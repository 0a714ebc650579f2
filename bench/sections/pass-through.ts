/**
 * Pass-through (SPEC §10): distinct calls about "now" (`eth_getBalance` of 1,000 addresses at
 * `latest`, rotated, so neither a cache nor coalescing can answer them), through the proxy against anvil directly
 * (C), nginx forwarding (B) and a naive Bun proxy, every server sharing one core with anvil; then the
 * median latency the proxy adds over anvil at one connection.
 */
import { join } from 'node:path'
import { type BenchContext, SERVER_CORE } from '../lib/context.ts'
import type { Section } from '../lib/report.ts'
import { cpuPerRequest, failingTargets, interleave, measurementRows, ratio, type Target } from '../lib/rounds.ts'
import { startNaiveProxy } from '../lib/servers.ts'
import { spread } from '../lib/stats.ts'

/** Distinct uncacheable bodies, rotated by wrk: no two in flight are the same question. */
const BODIES = Array.from(
  { length: 1_000 },
  (_, index) =>
    `{"jsonrpc":"2.0","id":1,"method":"eth_getBalance","params":["0x${(index + 1).toString(16).padStart(40, '0')}","latest"]}`,
)
const SINGLE_CONNECTION_S = 2

/** The servers this section loads besides the naive proxy it starts itself. */
export type PassThroughServers = {
  anvilUrl: string
  anvilPid: number
  nginxForwardUrl: string
  nginxPid: number
  proxyUrl: string
  proxyPid: number
}

/** The rotated bodies through every server at 32 connections, then anvil, naive and proxy at one. */
export async function measurePassThrough(context: BenchContext, servers: PassThroughServers): Promise<Section> {
  const { children, workDir, warnings, log } = context
  const naive = await startNaiveProxy(children, servers.anvilUrl, SERVER_CORE)
  const file = join(workDir, 'pass-through.bodies')
  await Bun.write(file, `${BODIES.join('\n')}\n`)
  const targets: Target[] = [
    { name: 'C anvil', url: servers.anvilUrl, pid: servers.anvilPid },
    { name: 'B nginx', url: servers.nginxForwardUrl, pid: servers.nginxPid },
    { name: 'naive', url: naive.url, pid: naive.child.pid },
    { name: 'proxy', url: servers.proxyUrl, pid: servers.proxyPid },
  ]
  log('pass-through, 32 connections')
  const many = await interleave(context, targets, file)
  log('pass-through, one connection')
  const one = await interleave(context, [targets[0]!, targets[2]!, targets[3]!], file, 1, SINGLE_CONNECTION_S)
  await naive.child.stop()
  for (const [rounds, what] of [
    [many, '32 connections'],
    [one, 'one connection'],
  ] as const) {
    const failing = failingTargets(rounds)
    if (failing.length)
      warnings.push(`pass-through (${what}): wrk saw errors for ${failing.join(', ')}; those rows are suspect`)
  }
  const p50 = (name: string) => one.get(name)!.map((run) => run.p50Ms)
  const addedBy = (name: string) => spread(p50(name).map((ms, round) => ms - p50('C anvil')[round]!))
  return {
    title: 'Pass-through: distinct eth_getBalance at latest vs C (anvil), B (nginx forwarding), naive Bun proxy',
    rows: [...measurementRows(many, 'c32'), ...measurementRows(one, 'c1')],
    checks: [
      { label: 'proxy / B req/s', value: ratio(many, 'proxy', 'B nginx'), unit: 'x', target: { op: '>=', limit: 1 } },
      {
        label: 'added median latency over anvil, 1 connection',
        value: addedBy('proxy'),
        unit: 'ms',
        target: { op: '<', limit: 0.05 },
      },
      { label: 'added median latency over anvil, 1 connection, naive Bun proxy', value: addedBy('naive'), unit: 'ms' },
      { label: 'proxy / C req/s', value: ratio(many, 'proxy', 'C anvil'), unit: 'x' },
      { label: 'proxy / naive req/s', value: ratio(many, 'proxy', 'naive'), unit: 'x' },
      { label: 'B / C req/s', value: ratio(many, 'B nginx', 'C anvil'), unit: 'x' },
      { label: 'B / naive req/s', value: ratio(many, 'B nginx', 'naive'), unit: 'x' },
      { label: 'CPU per request: anvil answering directly (C)', value: cpuPerRequest(many, 'C anvil'), unit: 'µs' },
      {
        label: 'CPU per request: nginx forwarding (B), anvil not counted',
        value: cpuPerRequest(many, 'B nginx'),
        unit: 'µs',
      },
      { label: 'CPU per request: naive Bun proxy, anvil not counted', value: cpuPerRequest(many, 'naive'), unit: 'µs' },
      { label: 'CPU per request: proxy, anvil not counted', value: cpuPerRequest(many, 'proxy'), unit: 'µs' },
      {
        label: 'CPU per request: proxy / naive Bun proxy',
        value: ratio(many, 'proxy', 'naive', 'cpuUsPerRequest'),
        unit: 'x',
        target: { op: '<=', limit: 1.15 },
      },
    ],
    notes: [
      'every server and anvil on one core, wrk on the other',
      'CPU per request is user + system time of the server process (and its workers) over the run, divided by the requests answered',
    ],
  }
}
