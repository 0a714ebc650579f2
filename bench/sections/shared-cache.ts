/**
 * The shared tier and rate limits (SPEC §10, §7, §13), measured from this process at one connection
 * (sequential calls) and under load (32 concurrent loops), on the proxy from source pinned to the
 * server core, with a real redis-server:
 * - a Redis-tier hit against a memory hit (the same keys, first and second touch of a fresh proxy);
 * - hits and misses with Redis stopped against a proxy without --cache-url (req/s, p99, errors);
 * - the rate limiter's cost per call (a limit never reached against none).
 */
import { mkdtempSync } from 'node:fs'
import { join } from 'node:path'
import { type BenchContext, SERVER_CORE } from '../lib/context.ts'
import type { Check, Section } from '../lib/report.ts'
import { startProxy } from '../lib/servers.ts'
import { spread } from '../lib/stats.ts'

const KEYS = 300
const LOAD_MS = 1_500
const LOAD_KEYS = 4_000
const LOAD_CONCURRENCY = 32

type Load = { rps: number; p99Ms: number; errors: number }

export async function measureSharedCache(context: BenchContext, anvilUrl: string): Promise<Section> {
  const { children, workDir, log, runs } = context
  const redisServer = Bun.which('redis-server') ?? '/usr/bin/redis-server'
  const redisPort = 20_000 + Math.floor(Math.random() * 20_000)
  const redisUrl = `redis://127.0.0.1:${redisPort}`
  const startRedis = async () => {
    const child = children.start(
      'redis',
      [
        redisServer,
        '--port',
        String(redisPort),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        workDir,
      ],
      {
        core: SERVER_CORE,
      },
    )
    await child.stdout.waitFor(/Ready to accept connections/, 10_000)
    return child
  }
  const fresh = (name: string) => mkdtempSync(join(workDir, `${name}-`))
  const proxy = (name: string, extra: string[]) =>
    startProxy(children, anvilUrl, fresh(name), SERVER_CORE, ['--dev-chain', 'no', ...extra])

  const redis = await startRedis()
  log(`shared cache: Redis-tier hits against memory hits, ${KEYS} keys, ${runs} rounds`)
  const redisHit: number[] = []
  const memoryHit: number[] = []
  for (let round = 0; round < runs; round++) {
    const bodies = Array.from({ length: KEYS }, (_, index) => balance(round * KEYS + index))
    const writer = await proxy('writer', ['--cache-url', redisUrl])
    // Puts made while the tier is announced down are dropped by design: write once it is up.
    await waitForTier(writer.url)
    for (const body of bodies) await call(writer.url, body)
    await waitForWrites(writer.url, KEYS)
    await writer.child.stop()
    const reader = await proxy('reader', ['--cache-url', redisUrl])
    await waitForTier(reader.url)
    redisHit.push(median(await timed(reader.url, bodies)))
    memoryHit.push(median(await timed(reader.url, bodies)))
    await reader.child.stop()
  }

  log(
    `shared cache: Redis-tier hits under load, ${LOAD_KEYS} keys first touched by ${LOAD_CONCURRENCY} loops, against memory hits`,
  )
  const redisLoad: Load[] = []
  const memoryLoad: Load[] = []
  for (let round = 0; round < runs; round++) {
    const bodies = Array.from({ length: LOAD_KEYS }, (_, index) => balance(10_000_000 * (round + 1) + index))
    const writer = await proxy('load-writer', ['--cache-url', redisUrl])
    await waitForTier(writer.url)
    await drain(writer.url, bodies)
    await waitForWrites(writer.url, LOAD_KEYS)
    await writer.child.stop()
    const reader = await proxy('load-reader', ['--cache-url', redisUrl])
    await waitForTier(reader.url)
    redisLoad.push(await drain(reader.url, bodies))
    memoryLoad.push(await drain(reader.url, bodies))
    await reader.child.stop()
  }

  log('shared cache: hits and misses with Redis stopped, against a proxy without --cache-url')
  await redis.stop()
  const withDown = await proxy('redis-down', ['--cache-url', redisUrl])
  const without = await proxy('no-redis', [])
  const hitBodies = Array.from({ length: 50 }, (_, index) => balance(1_000_000 + index))
  for (const target of [withDown, without]) for (const body of hitBodies) await call(target.url, body)
  const loads: Record<'downHit' | 'noneHit' | 'downMiss' | 'noneMiss', Load[]> = {
    downHit: [],
    noneHit: [],
    downMiss: [],
    noneMiss: [],
  }
  for (let round = 0; round < runs; round++) {
    loads.downHit.push(await load(withDown.url, (index) => hitBodies[index % hitBodies.length] as string))
    loads.noneHit.push(await load(without.url, (index) => hitBodies[index % hitBodies.length] as string))
    // New addresses for every load: each call a miss.
    const downBase = 2_000_000 * (round + 1)
    loads.downMiss.push(await load(withDown.url, (index) => balance(downBase + index)))
    const noneBase = 2_000_000 * (round + 1) + 1_000_000
    loads.noneMiss.push(await load(without.url, (index) => balance(noneBase + index)))
  }
  await withDown.child.stop()

  log('rate limits: a limit never reached against none, on hits')
  const limited = await proxy('limited', ['--rate-limit', '1000000'])
  for (const body of hitBodies) await call(limited.url, body)
  const limitedLoads: Load[] = []
  const plainLoads: Load[] = []
  for (let round = 0; round < runs; round++) {
    limitedLoads.push(await load(limited.url, (index) => hitBodies[index % hitBodies.length] as string))
    plainLoads.push(await load(without.url, (index) => hitBodies[index % hitBodies.length] as string))
  }
  await limited.child.stop()
  await without.child.stop()

  const pair = (a: Load[], b: Load[], pick: (load: Load) => number) =>
    spread(a.map((run, index) => pick(run) / pick(b[index] as Load)))
  const added = spread(redisHit.map((ms, index) => ms - (memoryHit[index] as number)))
  const errors = [...loads.downHit, ...loads.downMiss].reduce((sum, run) => sum + run.errors, 0)
  const checks: Check[] = [
    { label: 'Redis-tier hit, median at one connection', value: spread(redisHit), unit: 'ms' },
    { label: 'memory hit, median at one connection', value: spread(memoryHit), unit: 'ms' },
    { label: 'Redis-tier hit minus memory hit, median', value: added, unit: 'ms', target: { op: '<', limit: 0.3 } },
    {
      label: 'under load: Redis-tier hits / memory hits, req/s',
      value: pair(redisLoad, memoryLoad, (run) => run.rps),
      unit: 'x',
    },
    {
      label: 'under load: Redis-tier hits / memory hits, p99',
      value: pair(redisLoad, memoryLoad, (run) => run.p99Ms),
      unit: 'x',
    },
    {
      label: 'Redis stopped / no --cache-url, hits req/s',
      value: pair(loads.downHit, loads.noneHit, (run) => run.rps),
      unit: 'x',
      target: { op: '>=', limit: 0.9 },
    },
    {
      label: 'Redis stopped / no --cache-url, hits p99',
      value: pair(loads.downHit, loads.noneHit, (run) => run.p99Ms),
      unit: 'x',
      target: { op: '<=', limit: 1.1 },
    },
    {
      label: 'Redis stopped / no --cache-url, misses req/s',
      value: pair(loads.downMiss, loads.noneMiss, (run) => run.rps),
      unit: 'x',
      target: { op: '>=', limit: 0.9 },
    },
    {
      label: 'Redis stopped / no --cache-url, misses p99',
      value: pair(loads.downMiss, loads.noneMiss, (run) => run.p99Ms),
      unit: 'x',
      target: { op: '<=', limit: 1.1 },
    },
    { label: 'errors with Redis stopped', value: spread([errors]), unit: 'count', target: { op: '=', limit: 0 } },
    { label: 'rate limit on / off, hits req/s', value: pair(limitedLoads, plainLoads, (run) => run.rps), unit: 'x' },
    {
      label: 'rate limit: cost per call (µs of the saturated server, from req/s under load)',
      value: spread(limitedLoads.map((run, index) => 1e6 / run.rps - 1e6 / (plainLoads[index] as Load).rps)),
      unit: 'µs',
    },
  ]
  return {
    title: 'Shared cache (Redis) and rate limits',
    rows: [],
    checks,
    notes: [
      `Redis-tier hits: a fresh proxy's first touch of ${KEYS} keys another proxy stored (each copied down), against its second touch (memory); sequential calls from the bench process`,
      `under load: ${LOAD_CONCURRENCY} concurrent loops for ${LOAD_MS / 1000} s from the bench process (fetch), balances at a final block; misses are new addresses every round`,
    ],
  }
}

/** A cacheable call (final block): one per distinct address. */
function balance(index: number): string {
  return `{"jsonrpc":"2.0","id":1,"method":"eth_getBalance","params":["0x${index.toString(16).padStart(40, '0')}","0x5"]}`
}

async function call(url: string, body: string): Promise<any> {
  return (await fetch(url, { method: 'POST', body })).json()
}

async function timed(url: string, bodies: string[]): Promise<number[]> {
  const times: number[] = []
  for (const body of bodies) {
    const started = performance.now()
    await (await fetch(url, { method: 'POST', body })).text()
    times.push(performance.now() - started)
  }
  return times
}

/** For LOAD_MS, `LOAD_CONCURRENCY` loops calling with `body(0)`, `body(1)`, ...: req/s and p99. */
function load(url: string, body: (index: number) => string): Promise<Load> {
  const until = performance.now() + LOAD_MS
  return drive(url, (index) => (performance.now() < until ? body(index) : undefined))
}

/** Every body once, by `LOAD_CONCURRENCY` loops: req/s and p99 over the whole list. */
function drain(url: string, bodies: string[]): Promise<Load> {
  return drive(url, (index) => bodies[index])
}

/** `LOAD_CONCURRENCY` loops taking the next body until there is none; req/s over the time taken, p99, errors. */
async function drive(url: string, next: (index: number) => string | undefined): Promise<Load> {
  const latencies: number[] = []
  let errors = 0
  let index = 0
  const started = performance.now()
  await Promise.all(
    Array.from({ length: LOAD_CONCURRENCY }, async () => {
      for (let body = next(index++); body !== undefined; body = next(index++)) {
        const callStarted = performance.now()
        const reply = (await fetch(url, { method: 'POST', body }).then(
          (response) => response.json(),
          () => undefined,
        )) as any
        if (reply?.result === undefined) errors += 1
        latencies.push(performance.now() - callStarted)
      }
    }),
  )
  latencies.sort((a, b) => a - b)
  return {
    rps: latencies.length / ((performance.now() - started) / 1000),
    p99Ms: latencies[Math.floor(latencies.length * 0.99)] ?? Number.NaN,
    errors,
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN
}

async function waitForWrites(url: string, count: number): Promise<void> {
  let shared: unknown
  for (let tries = 0; tries < 400; tries++) {
    const stats = await call(url, '{"jsonrpc":"2.0","id":1,"method":"edb_cache_stats"}')
    shared = stats.result?.shared_cache
    if ((stats.result?.shared_cache?.writes ?? 0) >= count) return
    await Bun.sleep(25)
  }
  throw new Error(`the writer proxy did not write its ${count} entries to Redis: ${JSON.stringify(shared)}`)
}

async function waitForTier(url: string): Promise<void> {
  for (let tries = 0; tries < 400; tries++) {
    const stats = await call(url, '{"jsonrpc":"2.0","id":1,"method":"edb_cache_stats"}')
    if (stats.result?.shared_cache?.state === 'up') return
    await Bun.sleep(25)
  }
  throw new Error(`the proxy at ${url} did not connect to Redis`)
}
