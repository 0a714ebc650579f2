/**
 * Pass-through (SPEC §10): `eth_blockNumber`, never cached, through the proxy against anvil directly
 * (C), nginx forwarding (B) and a naive Bun proxy, every server sharing one core with anvil; then the
 * median latency the proxy adds over anvil at one connection.
 */
import { join } from 'node:path'
import { SERVER_CORE, type BenchContext } from '../lib/context.ts'
import type { Section } from '../lib/report.ts'
import { failingTargets, interleave, measurementRows, ratio, type Target } from '../lib/rounds.ts'
import { spread } from '../lib/stats.ts'

const BODY = '{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]}'
const SINGLE_CONNECTION_S = 2

export type PassThroughServers = { anvilUrl: string; nginxForwardUrl: string; proxyUrl: string }

export async function measurePassThrough(context: BenchContext, servers: PassThroughServers): Promise<Section> {
  const { children, workDir, warnings, log } = context
  const naive = children.start('naive', [process.execPath, join(import.meta.dir, '../naive-proxy.ts'), servers.anvilUrl], { core: SERVER_CORE })
  const naiveUrl = (await naive.stdout.waitFor(/listening on (http:\/\/\S+)/, 20_000))[1]!.replace(/\/$/, '')
  const file = join(workDir, 'block-number.bodies')
  await Bun.write(file, `${BODY}\n`)
  const targets: Target[] = [
    { name: 'C anvil', url: servers.anvilUrl },
    { name: 'B nginx', url: servers.nginxForwardUrl },
    { name: 'naive', url: naiveUrl },
    { name: 'proxy', url: servers.proxyUrl },
  ]
  log('pass-through, 32 connections')
  const many = await interleave(context, targets, file)
  log('pass-through, one connection')
  const one = await interleave(context, [targets[0]!, targets[3]!], file, 1, SINGLE_CONNECTION_S)
  await naive.stop()
  for (const [rounds, what] of [[many, '32 connections'], [one, 'one connection']] as const) {
    const failing = failingTargets(rounds)
    if (failing.length) warnings.push(`pass-through (${what}): wrk saw errors for ${failing.join(', ')}; those rows are suspect`)
  }
  const p50 = (name: string) => one.get(name)!.map((run) => run.p50Ms)
  const added = p50('proxy').map((ms, round) => ms - p50('C anvil')[round]!)
  return {
    title: 'Pass-through: eth_blockNumber vs C (anvil), B (nginx forwarding), naive Bun proxy',
    rows: [...measurementRows(many, 'c32'), ...measurementRows(one, 'c1')],
    checks: [
      { label: 'proxy / B req/s', value: ratio(many, 'proxy', 'B nginx'), unit: 'x', target: { op: '>=', limit: 1 } },
      { label: 'added median latency over anvil, 1 connection', value: spread(added), unit: 'ms', target: { op: '<', limit: 0.05 } },
      { label: 'proxy / C req/s', value: ratio(many, 'proxy', 'C anvil'), unit: 'x' },
      { label: 'proxy / naive req/s', value: ratio(many, 'proxy', 'naive'), unit: 'x' },
      { label: 'B / C req/s', value: ratio(many, 'B nginx', 'C anvil'), unit: 'x' },
      { label: 'B / naive req/s', value: ratio(many, 'B nginx', 'naive'), unit: 'x' },
    ],
    notes: ['every server and anvil on one core, wrk on the other'],
  }
}
