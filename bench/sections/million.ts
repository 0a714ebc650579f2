/**
 * One million cached entries (SPEC §10), all through the compiled binary: the store is filled with
 * ~300-byte results, every entry is read back through HTTP and must hit; RSS after that and its peak;
 * a restart must not load the store into memory; and time from spawn to the first `edb_ping` answer
 * with the million entries on disk.
 */
import { join } from 'node:path'
import { planCall } from '../../src/cache/policy.ts'
import { openDiskStore } from '../../src/cache/store.ts'
import { platform } from '../../src/platform/index.ts'
import { freePort } from '../../test/helpers/ports.ts'
import type { Child } from '../lib/children.ts'
import { type BenchContext, SERVER_CORE } from '../lib/context.ts'
import type { Section } from '../lib/report.ts'
import { spread } from '../lib/stats.ts'

const ROOT = join(import.meta.dir, '../..')
const RESULT_BYTES = 300
const BATCH = 1_000
const PING = '{"jsonrpc":"2.0","id":1,"method":"edb_ping"}'

/** The n-th call and its result: eth_getBalance of a distinct address at block 1 (mainnet, final). */
const callFor = (n: number) => ['eth_getBalance', [`0x${n.toString(16).padStart(40, '0')}`, '0x1']] as const
const resultFor = (n: number) => JSON.stringify(`0x${n.toString(16).padStart(RESULT_BYTES - 4, '0')}`)

/** Build the binary, fill the store, read it all back, restart and time spawn-to-ping. */
export async function measureMillion(context: BenchContext, entries: number): Promise<Section> {
  const { workDir, log } = context
  const binary = join(workDir, 'edb-rpc-proxy')
  const cacheDir = join(workDir, 'million')
  log('building the binary')
  const build = Bun.spawnSync([process.execPath, join(ROOT, 'build.ts'), `--outfile=${binary}`], {
    cwd: ROOT,
    stdout: 'pipe',
    stderr: 'pipe',
  })
  if (build.exitCode !== 0) throw new Error(`bun build.ts failed:\n${build.stderr}`)
  log(`filling the store with ${entries.toLocaleString('en-US')} entries`)
  let timer = performance.now()
  await fillStore(join(cacheDir, 'rpc', 'mainnet'), entries)
  const fillS = (performance.now() - timer) / 1000

  const first = await spawnUntilPing(context, binary, cacheDir)
  await Bun.sleep(500)
  const atStart = await memoryOf(first.child.pid)
  log('reading every entry back through HTTP')
  timer = performance.now()
  const correct = await readAll(first.url, entries)
  const readS = (performance.now() - timer) / 1000
  await Bun.sleep(2_000)
  const afterRead = await memoryOf(first.child.pid)
  await first.child.stop()

  const pings: number[] = []
  let restart = { rssMiB: 0, peakMiB: 0 }
  let onDisk = 0
  for (let run = 1; run <= context.runs; run++) {
    const started = await spawnUntilPing(context, binary, cacheDir)
    pings.push(started.pingMs)
    log(`spawn to edb_ping, run ${run}/${context.runs}: ${started.pingMs.toFixed(0)} ms`)
    if (run === 1) {
      await Bun.sleep(500)
      restart = await memoryOf(started.child.pid)
      onDisk = (await rpc(started.url, 'edb_cache_stats')).total_entries
    }
    await started.child.stop()
  }

  const rawMiB = (entries * RESULT_BYTES) / 2 ** 20
  const one = (value: number) => spread([value])
  return {
    title: `One million entries: ${entries.toLocaleString('en-US')} results of ${RESULT_BYTES} B, the compiled binary`,
    rows: [],
    checks: [
      {
        label: 'entries on disk after a restart',
        value: one(onDisk),
        unit: 'count',
        target: { op: '=', limit: entries },
      },
      {
        label: 'entries read back as correct hits',
        value: one(correct),
        unit: 'count',
        target: { op: '=', limit: entries },
      },
      {
        label: `RSS after reading every entry (1.5 x ${rawMiB.toFixed(0)} MiB raw + 100)`,
        value: one(afterRead.rssMiB),
        unit: 'MiB',
        target: { op: '<=', limit: 1.5 * rawMiB + 100 },
      },
      { label: 'peak RSS', value: one(afterRead.peakMiB), unit: 'MiB', target: { op: '<', limit: 1024 } },
      {
        label: 'RSS after a restart, minus RSS of the first start',
        value: one(restart.rssMiB - atStart.rssMiB),
        unit: 'MiB',
        target: { op: '<=', limit: 32 },
      },
      {
        label: 'binary spawn to first edb_ping answer',
        value: spread(pings),
        unit: 'ms',
        target: { op: '<=', limit: 150 },
      },
      { label: 'RSS at the first start', value: one(atStart.rssMiB), unit: 'MiB' },
    ],
    notes: [
      `store filled in ${fillS.toFixed(1)} s; every entry read back in batches of ${BATCH} in ${readS.toFixed(1)} s`,
      'the RSS figures come from one pass (reading a million entries three times does not fit the five minutes); the ping from every run',
    ],
  }
}

async function fillStore(dir: string, entries: number): Promise<void> {
  const store = await openDiskStore({ dir, maxItems: entries, openSqlite: platform.openSqlite, warn: console.warn })
  for (let n = 0; n < entries; n++) {
    const [method, params] = callFor(n)
    store.put(planCall(method, params)!.key, method, resultFor(n))
    if (n % 50_000 === 49_999) store.flush()
  }
  store.close()
}

/** Spawn the binary on a free port, as EDB does, and poll `edb_ping` until it answers. */
async function spawnUntilPing(
  context: BenchContext,
  binary: string,
  cacheDir: string,
): Promise<{ child: Child; url: string; pingMs: number }> {
  const port = freePort()
  const url = `http://127.0.0.1:${port}`
  const startedAt = performance.now()
  const args = [binary, 'server', '--port', String(port), '--rpc-urls', '', '--cache-dir', cacheDir]
  const child = context.children.start('binary', args, { core: SERVER_CORE })
  for (;;) {
    const reply = await fetch(url, { method: 'POST', body: PING }).then(
      (r) => r.json() as any,
      () => undefined,
    )
    if (reply?.result?.status === 'ok') return { child, url, pingMs: performance.now() - startedAt }
    if (performance.now() - startedAt > 20_000)
      throw new Error(`the binary did not answer edb_ping within 20 s:\n${child.stderr.text()}`)
    await Bun.sleep(1)
  }
}

async function rpc(url: string, method: string): Promise<any> {
  const reply = (await (
    await fetch(url, { method: 'POST', body: JSON.stringify({ jsonrpc: '2.0', id: 1, method }) })
  ).json()) as any
  return reply.result
}

/** Request every entry through the proxy; returns how many answered with the right result. */
async function readAll(url: string, entries: number): Promise<number> {
  let correct = 0
  for (let start = 0; start < entries; start += BATCH) {
    const calls = Array.from({ length: Math.min(BATCH, entries - start) }, (_, i) => {
      const [method, params] = callFor(start + i)
      return { jsonrpc: '2.0', id: start + i, method, params }
    })
    const replies = (await (await fetch(url, { method: 'POST', body: JSON.stringify(calls) })).json()) as any[]
    for (const reply of replies) if (JSON.stringify(reply.result) === resultFor(reply.id)) correct++
  }
  return correct
}

/** Resident and peak resident memory of a process, in MiB, from /proc. */
async function memoryOf(pid: number): Promise<{ rssMiB: number; peakMiB: number }> {
  const status = await Bun.file(`/proc/${pid}/status`).text()
  const kib = (field: string) => Number(status.match(new RegExp(`${field}:\\s+(\\d+) kB`))?.[1] ?? Number.NaN)
  return { rssMiB: kib('VmRSS') / 1024, peakMiB: kib('VmHWM') / 1024 }
}
