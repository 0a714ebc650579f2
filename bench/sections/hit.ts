/**
 * Cache hits (SPEC §10): the proxy against A (bare Bun.serve, constant answer, body unread),
 * A_body (the same, body read first) and B (nginx proxy_cache keyed on the body), on one repeated
 * body and on a rotation of 20 cacheable bodies with 40 B to 5 KB answers.
 */
import { join } from 'node:path'
import { checkAnswers } from '../lib/answers.ts'
import { post, type SeededChain } from '../lib/chain.ts'
import { type BenchContext, SERVER_CORE } from '../lib/context.ts'
import type { Check, MeasurementRow, Section } from '../lib/report.ts'
import { cpuPerRequest, failingTargets, interleave, measurementRows, ratio, type Target } from '../lib/rounds.ts'
import { startBaseline, startNaiveProxy } from '../lib/servers.ts'
import { spread } from '../lib/stats.ts'
import { warmCache } from '../lib/warm.ts'
import { hitWorkloads } from '../lib/workloads.ts'

const WARM_TIMEOUT_MS = 10_000

/** The servers this section loads besides its own baselines. */
export type HitServers = {
  anvilUrl: string
  chain: SeededChain
  nginxCacheUrl: string
  nginxPid: number
  proxyUrl: string
  proxyPid: number
}

/** Load every server with each hit workload in interleaved rounds; the section's rows and checks. */
export async function measureHits(context: BenchContext, servers: HitServers): Promise<Section> {
  const { children, workDir, warnings, log } = context
  const A = await startBaseline(children, 'A', 'const', SERVER_CORE)
  const A_body = await startBaseline(children, 'A_body', 'body', SERVER_CORE)
  const naive = await startNaiveProxy(children, servers.anvilUrl, SERVER_CORE)
  const constant = (await post(A.url, '{}')).text.length
  const targets: Target[] = [
    { name: 'A', url: A.url, pid: A.child.pid },
    { name: 'A_body', url: A_body.url, pid: A_body.child.pid },
    { name: 'B nginx', url: servers.nginxCacheUrl, pid: servers.nginxPid },
    { name: 'naive', url: naive.url, pid: naive.child.pid },
    { name: 'proxy', url: servers.proxyUrl, pid: servers.proxyPid },
  ]
  const workloads = hitWorkloads(servers.chain)
  const bodies = workloads.flatMap((workload) => workload.bodies)
  const { sizes, mismatches } = await checkAnswers(servers.proxyUrl, servers.anvilUrl, bodies)
  if (mismatches.length > 0)
    warnings.push(`${mismatches.length} answers through the proxy differ from anvil's: ${mismatches.join(' ')}`)
  for (const body of bodies) await post(naive.url, body)
  for (const [name, url] of [
    ['B nginx', servers.nginxCacheUrl],
    ['proxy', servers.proxyUrl],
  ] as const) {
    const warm = await warmCache(url, bodies, WARM_TIMEOUT_MS)
    if (warm.hits < warm.total)
      warnings.push(
        `${name}: x-cache: HIT not seen for ${warm.total - warm.hits} of ${warm.total} bodies; its rows may measure pass-through`,
      )
  }
  const rows: MeasurementRow[] = []
  const checks: Check[] = []
  for (const workload of workloads) {
    log(`hits, workload ${workload.name}`)
    const file = join(workDir, `${workload.name}.bodies`)
    await Bun.write(file, `${workload.bodies.join('\n')}\n`)
    const rounds = await interleave(context, targets, file)
    rows.push(...measurementRows(rounds, workload.name))
    const failing = failingTargets(rounds)
    if (failing.length)
      warnings.push(`hits/${workload.name}: wrk saw errors for ${failing.join(', ')}; those rows are suspect`)
    checks.push(
      {
        label: `${workload.name}: proxy / A_body req/s`,
        value: ratio(rounds, 'proxy', 'A_body'),
        unit: 'x',
        target: { op: '>=', limit: 0.95 },
      },
      {
        label: `${workload.name}: proxy / B req/s`,
        value: ratio(rounds, 'proxy', 'B nginx'),
        unit: 'x',
        target: { op: '>=', limit: 1.5 },
      },
      {
        label: `${workload.name}: proxy / A_body p99`,
        value: ratio(rounds, 'proxy', 'A_body', 'p99Ms'),
        unit: 'x',
        target: { op: '<=', limit: 1.5 },
      },
      { label: `${workload.name}: proxy / A req/s`, value: ratio(rounds, 'proxy', 'A'), unit: 'x' },
      { label: `${workload.name}: A_body / A req/s`, value: ratio(rounds, 'A_body', 'A'), unit: 'x' },
      { label: `${workload.name}: B / A req/s`, value: ratio(rounds, 'B nginx', 'A'), unit: 'x' },
      { label: `${workload.name}: proxy / naive Bun proxy req/s`, value: ratio(rounds, 'proxy', 'naive'), unit: 'x' },
      ...targets.map(({ name }) => ({
        label: `${workload.name}: CPU per request, ${name}`,
        value: cpuPerRequest(rounds, name),
        unit: 'µs' as const,
      })),
    )
  }
  await A.child.stop()
  await A_body.child.stop()
  await naive.child.stop()
  const answers = spread(sizes)
  const notes = [
    `proxy and naive answer ${answers.min} to ${answers.max} bytes (the node's answers); A and A_body a constant ${constant} bytes`,
    'naive: a Map keyed on the body and fetch() (bench/naive-proxy.ts); the same answers as the proxy, none of its checks',
  ]
  return { title: 'Cache hits: proxy vs A, A_body, B (nginx proxy_cache), naive Bun proxy', rows, checks, notes }
}
