/**
 * Large bodies (SPEC §3): the time to answer a body at the size limit, and an `edb_ping`'s latency
 * on another connection while that body is read and parsed, against the same ping's latency with
 * nothing else to do (same run, same proxy). Two shapes at the 32 MiB limit: one call holding one
 * huge string, and a batch at the 1,000-call cap of ~32 KB calls. Both are answered by the proxy
 * itself (`edb_ping`), so the time is the proxy's own, not an upstream's.
 */
import { join } from 'node:path'
import { type BenchContext, SERVER_CORE } from '../lib/context.ts'
import type { Check, Section } from '../lib/report.ts'
import { startProxy } from '../lib/servers.ts'
import { spread } from '../lib/stats.ts'

const LIMIT_BYTES = 32 * 1024 * 1024
const PING = '{"jsonrpc":"2.0","id":1,"method":"edb_ping"}'

/** A body of `LIMIT_BYTES` less a little: one call, or a batch of 1,000 calls. */
function bodyAtTheLimit(shape: 'one call' | 'batch of 1,000'): string {
  const frame = (id: number, data: string) => `{"jsonrpc":"2.0","id":${id},"method":"edb_ping","params":["${data}"]}`
  if (shape === 'one call') return frame(1, 'a'.repeat(LIMIT_BYTES - frame(1, '').length - 16))
  const each = Math.floor((LIMIT_BYTES - 1_000 * 80) / 1_000)
  return `[${Array.from({ length: 1_000 }, (_, id) => frame(id, 'b'.repeat(each))).join(',')}]`
}

async function timedPost(url: string, body: string): Promise<number> {
  const startedAt = performance.now()
  const response = await fetch(url, { method: 'POST', body })
  const text = await response.text()
  if (response.status !== 200 || !text.includes('"status":"ok"'))
    throw new Error(`unexpected answer ${response.status}: ${text.slice(0, 200)}`)
  return performance.now() - startedAt
}

/** Pings one after another until `done` settles: each latency. */
async function pingUntil(url: string, done: Promise<unknown>): Promise<number[]> {
  let finished = false
  void done.finally(() => {
    finished = true
  })
  const latencies: number[] = []
  while (!finished) latencies.push(await timedPost(url, PING))
  return latencies
}

export async function measureBodies(context: BenchContext, anvilUrl: string): Promise<Section> {
  const { children, workDir, log } = context
  log('bodies: at the 32 MiB limit, with pings on another connection')
  const proxy = await startProxy(children, anvilUrl, join(workDir, 'cache-bodies'), SERVER_CORE)
  const idle: number[] = []
  for (let i = 0; i < 200; i++) idle.push(await timedPost(proxy.url, PING))
  const checks: Check[] = [{ label: 'ping latency, idle', value: spread(idle), unit: 'ms' }]
  for (const shape of ['one call', 'batch of 1,000'] as const) {
    const body = bodyAtTheLimit(shape)
    const answers: number[] = []
    const slowestPings: number[] = []
    for (let run = 0; run < context.runs; run++) {
      const answered = timedPost(proxy.url, body)
      const pings = await pingUntil(proxy.url, answered)
      answers.push(await answered)
      slowestPings.push(Math.max(...pings, 0))
    }
    checks.push(
      {
        label: `largest body at the limit (${shape}): time to answer`,
        value: spread(answers),
        unit: 'ms',
        target: { op: '<=', limit: 1_000 },
      },
      {
        label: `a ping's latency while it is parsed (${shape}), slowest`,
        value: spread(slowestPings),
        unit: 'ms',
        target: { op: '<=', limit: 1_000 },
      },
    )
  }
  await proxy.child.stop()
  return {
    title: 'Large bodies: a body at the 32 MiB limit, and pings meanwhile',
    rows: [],
    checks,
    notes: [
      'each body is sent with Bun fetch in one request; pings go one after another on another connection until it is answered',
      'SPEC §3: a body at the limit is answered within about a second, and other requests are served meanwhile',
    ],
  }
}
