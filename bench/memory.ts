/**
 * One million cached entries (SPEC §10): RSS after reading all of them through the proxy, peak RSS,
 * that the disk store holds them all, and that a restart neither loads them into memory nor delays
 * `edb_ping`. Entries are ~300-byte results written straight into the store the proxy opens
 * (cache-only mode, mainnet), then every one is requested through HTTP in batches and must HIT.
 * Usage: bun bench/memory.ts [--entries N]   (default 1,000,000)
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { planCall } from '../src/cache/policy.ts'
import { openDiskStore } from '../src/cache/store.ts'
import { createChildren, type Child } from './lib/children.ts'

const ROOT = join(import.meta.dir, '..')
const RESULT_BYTES = 300
const BATCH = 1_000
const { values } = parseArgs({ args: process.argv.slice(2), options: { entries: { type: 'string', default: '1000000' } } })
const entries = Number(values.entries)
if (!Number.isInteger(entries) || entries < BATCH) {
  console.error(`--entries must be an integer >= ${BATCH}`)
  process.exit(2)
}

const children = createChildren({ pin: false })
const cacheDir = await mkdtemp(join(tmpdir(), 'edb-bench-memory-'))
process.on('exit', () => children.killAll())

/** The n-th call and its result: eth_getBalance of a distinct address at block 1. */
const callFor = (n: number) => ['eth_getBalance', [`0x${n.toString(16).padStart(40, '0')}`, '0x1']] as const
const resultFor = (n: number) => JSON.stringify(`0x${n.toString(16).padStart(RESULT_BYTES - 4, '0')}`)

/** Resident and peak resident memory of a process, in MiB, from /proc. */
async function memoryOf(pid: number): Promise<{ rssMiB: number; peakMiB: number }> {
  const status = await Bun.file(`/proc/${pid}/status`).text()
  const kib = (field: string) => Number(status.match(new RegExp(`${field}:\\s+(\\d+) kB`))?.[1] ?? Number.NaN)
  return { rssMiB: kib('VmRSS') / 1024, peakMiB: kib('VmHWM') / 1024 }
}

async function fillStore(): Promise<void> {
  const store = await openDiskStore({ dir: join(cacheDir, 'rpc', 'mainnet'), maxItems: entries, warn: console.warn })
  for (let n = 0; n < entries; n++) {
    const [method, params] = callFor(n)
    store.put(planCall(method, params)!.key, method, resultFor(n))
    if (n % 50_000 === 49_999) store.flush()
  }
  store.close()
}

async function startProxy(): Promise<{ child: Child; url: string; pingMs: number }> {
  const startedAt = performance.now()
  const child = children.start('proxy', [process.execPath, join(ROOT, 'src/main.ts'), 'server', '--port', '0', '--rpc-urls', '', '--cache-dir', cacheDir])
  const url = (await child.stdout.waitFor(/listening on (http:\/\/\S+)/, 20_000))[1]!
  for (;;) {
    const reply = await fetch(url, { method: 'POST', body: '{"jsonrpc":"2.0","id":1,"method":"edb_ping"}' }).then((r) => r.json() as any).catch(() => undefined)
    if (reply?.result?.status === 'ok') return { child, url, pingMs: performance.now() - startedAt }
  }
}

async function stats(url: string): Promise<any> {
  const reply = (await (await fetch(url, { method: 'POST', body: '{"jsonrpc":"2.0","id":1,"method":"edb_cache_stats"}' })).json()) as any
  return reply.result
}

/** Request every entry through the proxy; returns how many answered as hits with the right result. */
async function readAll(url: string): Promise<number> {
  let correct = 0
  for (let start = 0; start < entries; start += BATCH) {
    const calls = Array.from({ length: BATCH }, (_, i) => {
      const [method, params] = callFor(start + i)
      return { jsonrpc: '2.0', id: start + i, method, params }
    })
    const replies = (await (await fetch(url, { method: 'POST', body: JSON.stringify(calls) })).json()) as any[]
    for (const reply of replies) if (JSON.stringify(reply.result) === resultFor(reply.id)) correct++
  }
  return correct
}

try {
  const rawMiB = (entries * RESULT_BYTES) / 2 ** 20
  let timer = performance.now()
  await fillStore()
  console.log(`filled the store with ${entries.toLocaleString('en')} entries of ${RESULT_BYTES} B in ${((performance.now() - timer) / 1000).toFixed(1)} s`)

  const cold = await startProxy()
  await Bun.sleep(500)
  const atStart = await memoryOf(cold.child.pid)
  const startStats = await stats(cold.url)
  timer = performance.now()
  const correct = await readAll(cold.url)
  const readS = (performance.now() - timer) / 1000
  await Bun.sleep(2_000)
  const after = await memoryOf(cold.child.pid)
  await cold.child.stop()

  const restarted = await startProxy()
  await Bun.sleep(500)
  const restartMemory = await memoryOf(restarted.child.pid)
  const restartStats = await stats(restarted.url)
  await restarted.child.stop()

  const targetMiB = 1.5 * rawMiB + 100
  const rows: [string, string, string, boolean | undefined][] = [
    ['entries on disk (edb_cache_stats)', restartStats.total_entries.toLocaleString('en'), `= ${entries.toLocaleString('en')}`, restartStats.total_entries === entries && startStats.total_entries === entries],
    ['entries read back as correct hits', `${correct.toLocaleString('en')} in ${readS.toFixed(1)} s`, `= ${entries.toLocaleString('en')}`, correct === entries],
    ['RSS at start with the store on disk', `${atStart.rssMiB.toFixed(0)} MiB`, '(info)', undefined],
    ['RSS after reading every entry', `${after.rssMiB.toFixed(0)} MiB`, `<= 1.5 x ${rawMiB.toFixed(0)} + 100 = ${targetMiB.toFixed(0)} MiB`, after.rssMiB <= targetMiB],
    ['peak RSS', `${after.peakMiB.toFixed(0)} MiB`, '< 1024 MiB', after.peakMiB < 1024],
    ['RSS after a restart (nothing loaded)', `${restartMemory.rssMiB.toFixed(0)} MiB`, `<= a fresh start + 32 = ${(atStart.rssMiB + 32).toFixed(0)} MiB`, restartMemory.rssMiB <= atStart.rssMiB + 32],
    ['edb_ping after spawn (from source, store on disk)', `${restarted.pingMs.toFixed(0)} ms`, '(info; the binary target is in issue 6)', undefined],
  ]
  const header = `${new Date().toISOString()}  bun ${Bun.version}  raw payload ${rawMiB.toFixed(0)} MiB`
  const verdict = (ok: boolean | undefined) => (ok === undefined ? '' : ok ? 'pass' : 'MISS')
  console.log(`\n${header}\n`)
  for (const [what, value, target, ok] of rows) console.log(`${what.padEnd(48)} ${value.padEnd(22)} ${target.padEnd(36)} ${verdict(ok)}`)
  const table = rows.map(([what, value, target, ok]) => `| ${what} | ${value} | ${target} | ${verdict(ok)} |`).join('\n')
  await Bun.write(
    join(import.meta.dir, 'RESULTS-memory.md'),
    `# One million cached entries (SPEC §10)\n\n${header}\n\n| measure | value | target | verdict |\n| --- | --- | --- | --- |\n${table}\n`,
  )
} finally {
  await children.stopAll()
  await rm(cacheDir, { recursive: true, force: true })
}
